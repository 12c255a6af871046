#!/usr/bin/env node
// bench/lab: the local lab's real-guest timings. From POST status/start to SSH-ready for one guest,
// then for three started together; and the guest image build, cached (and cold with BENCH_COLD=1,
// which builds into a throwaway cache: a few minutes). Needs root and the testlab tools.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { record, table } from '../lib.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
if (process.getuid?.() !== 0) {
  process.stdout.write('\nlab: skipped (needs root for network namespaces and debootstrap)\n');
  process.exit(0);
}
const { loadLab, connectLab, Secrets, waitForTask } = await import(join(ROOT, 'packages/core/dist/index.js'));
const { buildImage, startLocalLab, waitForSsh, serialTail } = await import(join(ROOT, 'packages/testlab/dist/index.js'));
const { buildTemplate } = await import(join(ROOT, 'packages/l1-image/dist/index.js'));

const rows = [];
const since = (t0) => Math.round(Number(process.hrtime.bigint() - t0) / 1e6);

let t0 = process.hrtime.bigint();
await buildImage();
rows.push({ measure: 'guest image, cached', median_ms: since(t0) });
if (process.env.BENCH_COLD) {
  const cache = mkdtempSync(join(tmpdir(), 'ahl-bench-cache-'));
  t0 = process.hrtime.bigint();
  await buildImage({ cacheDir: cache });
  rows.push({ measure: 'guest image, cold (debootstrap, packages, disk)', median_ms: since(t0) });
  rmSync(cache, { recursive: true, force: true });
}

const dir = mkdtempSync(join(tmpdir(), 'ahl-bench-lab-'));
const key = join(dir, 'id_ed25519');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
const pub = readFileSync(`${key}.pub`, 'utf8').trim();
const files = {
  'lab.yaml': `name: bench\nproxmox:\n  endpoint: https://pve.invalid:8006\n  tokenId: ahl@pve!ahl\n  tokenSecret: env:X\nnodes:\n  pve1: {}\ndefaults:\n  storage: {vm: local-lvm, iso: local, import: local}\ncloudInit:\n  sshKeys: [${pub}]\n`,
  'images/deb.yaml': 'os: {family: debian, release: bookworm}\nsource:\n  url: https://deb.invalid/d.qcow2\n  checksumUrl: https://deb.invalid/SHA256SUMS\ntemplate: {vmid: 9000}\n',
  'personas/b.yaml': `template: deb@stable\nhosts:\n${[1, 2, 3, 4].map((i) => `  b${i}: {node: pve1, ip: 10.80.0.${10 + i}/24, gateway: 10.80.0.1, vmid: ${300 + i}}`).join('\n')}\n`,
};
for (const [rel, text] of Object.entries(files)) {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), text);
}
const base = (await loadLab(dir)).lab;
const local = await startLocalLab(base);
try {
  const { lab } = await loadLab(dir);
  const client = await connectLab(lab.config, new Secrets({ env: {}, baseDir: dir }), dir);
  const wait = { initialDelayMs: 100, maxDelayMs: 1000 };
  const built = await buildTemplate(lab, client, 'deb', { wait });
  if (built.outcome !== 'built') throw new Error(JSON.stringify(built));
  const prepare = async (vmid, i) => {
    await waitForTask(client, await client.request('POST', '/nodes/pve1/qemu/9000/clone', { newid: vmid, name: `b${i}`, full: 0 }), wait);
    await client.request('PUT', `/nodes/pve1/qemu/${vmid}/config`, { ciuser: 'lab', sshkeys: encodeURIComponent(pub), ipconfig0: `ip=10.80.0.${10 + i}/24,gw=10.80.0.1`, ciupgrade: 0, ide2: 'local-lvm:cloudinit' });
  };
  const startAndReach = async (vmid, i) => {
    await waitForTask(client, await client.request('POST', `/nodes/pve1/qemu/${vmid}/status/start`), wait);
    const target = { host: `10.80.0.${10 + i}`, user: 'lab', key, inNamespace: (a) => ['ip', 'netns', 'exec', local.state.namespace, ...a] };
    await waitForSsh(target, 15 * 60_000, () => serialTail(join(dir, '.ahl/lab/run', String(vmid))));
  };
  for (const i of [1, 2, 3, 4]) await prepare(300 + i, i);
  t0 = process.hrtime.bigint();
  await startAndReach(301, 1);
  rows.push({ measure: `status/start → SSH ready, 1 guest (${local.state.accel})`, median_ms: since(t0) });
  await waitForTask(client, await client.request('POST', '/nodes/pve1/qemu/301/status/stop'), wait);
  t0 = process.hrtime.bigint();
  await Promise.all([2, 3, 4].map((i) => startAndReach(300 + i, i)));
  rows.push({ measure: `status/start → SSH ready, 3 guests together (${local.state.accel})`, median_ms: since(t0) });
  await client.close();
} finally {
  await local.stop();
  rmSync(dir, { recursive: true, force: true });
}
table('lab', rows);
record('lab', { rows });
