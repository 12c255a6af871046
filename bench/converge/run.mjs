#!/usr/bin/env node
// bench/converge: L3 converge of real testlab guests (QEMU) with the bundled playbook: first and
// second (idempotent) run, for one guest and for three in parallel. Target: three guests take well
// under three times one (parallel forks), for both runs. Guests: 1 vCPU, 1 GiB each; under TCG the
// host's cores bound the parallelism, and the table says how many it had.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, record, table } from '../lib.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { loadLab } = await import(join(ROOT, 'packages/core/dist/index.js'));
const { convergeSystem } = await import(join(ROOT, 'packages/l3-system/dist/index.js'));
const { buildImage, GuestLab, newRunId } = await import(join(ROOT, 'packages/testlab/dist/index.js'));
const SIZES = (process.env.BENCH_CONVERGE_SIZES ?? '1,3').split(',').map(Number);

function writeLab(dir, lab, proxy, n) {
  const pub = readFileSync(lab.publicKeyFile, 'utf8').trim();
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'personas'), { recursive: true });
  writeFileSync(join(dir, 'lab.yaml'), `name: bench\nproxmox: {endpoint: "https://pve.invalid:8006", tokenId: "ahl@pve!ahl", tokenSecret: "env:PM_TOKEN_SECRET"}\nnodes: {pve1: {}}\ncloudInit: {user: lab, sshKeys: ["${pub}"]}\nssh: {privateKey: "${lab.key}"}\n`);
  writeFileSync(join(dir, 'images/debian-bookworm.yaml'), 'os: {family: debian, release: bookworm}\nsource: {url: "https://cloud.debian.org/d.qcow2", checksumUrl: "https://cloud.debian.org/SHA512SUMS"}\n');
  const hosts = Array.from({ length: n }, (_, i) => `  bench-${i + 1}: {node: pve1, ip: 10.77.0.${21 + i}/24, gateway: 10.77.0.1}`).join('\n');
  writeFileSync(
    join(dir, 'personas/devops.yaml'),
    `template: debian-bookworm@stable\nsystem:\n  timezone: Europe/London\n  aptProxy: "${proxy}"\n  packages: [tree]\n  users:\n    - {name: ops, groups: [docker, sudo], sshKeys: ["${pub}"], sudo: nopasswd}\n  files:\n    - {path: /etc/ahl-motd, content: "bench\\n"}\n  containerEngine: {kind: docker}\nhosts:\n${hosts}\n`,
  );
}

async function measure(n) {
  const image = await buildImage({});
  const lab = await GuestLab.start({ runId: newRunId(), image });
  try {
    const guests = await Promise.all(Array.from({ length: n }, (_, i) => lab.addGuest({ name: `bench-${i + 1}`, ip: `10.77.0.${21 + i}/24`, mac: `BC:24:11:77:00:${(0x21 + i).toString(16)}`, clone: 'linked' })));
    await Promise.all(guests.map((g) => lab.waitReady(g)));
    const proxy = await lab.startAptProxy();
    const dir = join(lab.runDir, 'lab');
    writeLab(dir, lab, proxy, n);
    const { lab: model, errors } = await loadLab(dir);
    if (!model) throw new Error(JSON.stringify(errors));
    const opts = { knownHostsFile: join(lab.runDir, 'known_hosts'), wrap: lab.network.exec };
    const times = [];
    for (const run of ['first', 'second']) {
      const t0 = Date.now();
      const r = await convergeSystem(model, opts);
      times.push(Date.now() - t0);
      if (!r.ok) throw new Error(`${run} converge failed: ${JSON.stringify(r.hosts)}`);
      if (run === 'second' && r.hosts.some((h) => h.counts.changed)) throw new Error(`second converge changed something: ${JSON.stringify(r.hosts)}`);
      process.stderr.write(`converge ${n} guest(s), ${run}: ${times.at(-1)} ms\n`);
    }
    return times;
  } finally {
    await lab.destroy();
  }
}

const results = {};
for (const n of SIZES) results[n] = await measure(n);
const rows = [];
for (const n of SIZES) {
  rows.push({ measure: `converge ${n} guest${n > 1 ? 's' : ''}, first run`, median_ms: median([results[n][0]]), ...(n > 1 && results[1] ? { target_ms: Math.round(results[1][0] * n * 0.75) } : {}) });
  rows.push({ measure: `converge ${n} guest${n > 1 ? 's' : ''}, second run (changed=0)`, median_ms: median([results[n][1]]), ...(n > 1 && results[1] ? { target_ms: Math.round(results[1][1] * n * 0.75) } : {}) });
}
table('converge', rows);
record('converge', { sizes: SIZES, note: 'one run each (a run is minutes under TCG); target for N guests: 0.75 × N × the one-guest time', rows });
process.exitCode = rows.every((r) => r.target_ms === undefined || r.median_ms <= r.target_ms) ? 0 : 1;
