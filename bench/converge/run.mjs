#!/usr/bin/env node
// bench/converge: L3's bundled playbook on real testlab guests (QEMU), side by side in one run:
//   ahl          convergeSystem as `ahl converge` runs it (mitogen when installed, pipelining, ...)
//   stock        plain ansible-playbook on the same rendered inventory and roles, Ansible's defaults
// Each runner gets a fresh guest of its own (a first converge changes the guest), one after the
// other, so they never share the 2 cores: a first converge, then a second one that must change
// nothing. Targets (one guest under TCG): first converge <= 90 s, no-op converge <= 30 s.
// BENCH_CONVERGE_SIZES=1,3 also times 3 guests converged by ahl at once (target: 0.75 x 3 x one).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, record, table } from '../lib.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { loadLab } = await import(join(ROOT, 'packages/core/dist/index.js'));
const { convergeSystem, chooseStrategy, findAnsiblePlaybook, renderInventory, ANSIBLE_DIR } = await import(join(ROOT, 'packages/l3-system/dist/index.js'));
const { buildImage, GuestLab, newRunId } = await import(join(ROOT, 'packages/testlab/dist/index.js'));
const SIZES = (process.env.BENCH_CONVERGE_SIZES ?? '1').split(',').map(Number);
const TARGET = { first: 90_000, second: 30_000 };

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

/** Plain ansible-playbook, Ansible's defaults: the rendered inventory and the bundled roles, nothing else. */
function stockConverge(model, lab) {
  const inv = join(lab.runDir, 'stock-inventory');
  for (const [rel, text] of Object.entries(renderInventory(model, { knownHostsFile: join(lab.runDir, 'known_hosts') }))) {
    mkdirSync(dirname(join(inv, rel)), { recursive: true });
    writeFileSync(join(inv, rel), text);
  }
  const argv = lab.network.exec([findAnsiblePlaybook(), '-i', join(inv, 'inventory.yml'), join(ANSIBLE_DIR, 'site.yml')]);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, ANSIBLE_ROLES_PATH: join(ANSIBLE_DIR, 'roles') } });
  const recap = /ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !recap) throw new Error(`stock ansible-playbook failed (${r.status}):\n${(r.stdout ?? '').slice(-3000)}${r.stderr}`);
  return { changed: Number(recap[2]) };
}

/** Boots n guests, converges them twice with `runner`; returns [first, second] in ms. */
async function measure(runner, n) {
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
      let changed;
      if (runner === 'ahl') {
        const r = await convergeSystem(model, opts);
        if (!r.ok) throw new Error(`${run} converge failed: ${JSON.stringify(r.hosts)}`);
        changed = r.hosts.reduce((s, h) => s + h.counts.changed, 0);
      } else {
        changed = stockConverge(model, lab).changed;
      }
      times.push(Date.now() - t0);
      if (run === 'second' && changed) throw new Error(`${runner}: the second converge changed ${changed} task(s)`);
      process.stderr.write(`${runner}: converge ${n} guest(s), ${run}: ${times.at(-1)} ms\n`);
    }
    return times;
  } finally {
    await lab.destroy();
  }
}

const strategy = chooseStrategy(findAnsiblePlaybook(), process.env).name;
const ahl = await measure('ahl', 1);
const stock = await measure('stock', 1);
const rows = [
  { measure: `converge 1 guest, first run: ahl (${strategy})`, median_ms: median([ahl[0]]), target_ms: TARGET.first },
  { measure: 'converge 1 guest, first run: stock ansible-playbook', median_ms: median([stock[0]]) },
  { measure: `converge 1 guest, no-op run: ahl (${strategy})`, median_ms: median([ahl[1]]), target_ms: TARGET.second },
  { measure: 'converge 1 guest, no-op run: stock ansible-playbook', median_ms: median([stock[1]]) },
];
for (const n of SIZES.filter((s) => s > 1)) {
  const [first, second] = await measure('ahl', n);
  rows.push({ measure: `converge ${n} guests at once, first run: ahl`, median_ms: first, target_ms: Math.round(ahl[0] * n * 0.75) });
  rows.push({ measure: `converge ${n} guests at once, no-op run: ahl`, median_ms: second, target_ms: Math.round(ahl[1] * n * 0.75) });
}
table('converge', rows);
record('converge', { sizes: SIZES, strategy, note: 'one run each (a run is minutes under TCG); ahl and stock ansible-playbook each on a fresh guest, one after the other', rows });
process.exitCode = rows.every((r) => r.target_ms === undefined || r.median_ms <= r.target_ms) ? 0 : 1;
