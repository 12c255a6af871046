#!/usr/bin/env node
// bench/runway: `runRunway` on a 3-node lab with 200 guests against pve-sim (plain HTTP, loopback).
// Target (issue "L0 runway and L1 images"): under 1 s, with a small constant number of API calls.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, record, table } from '../lib.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { startSim } = await import(join(ROOT, 'packages/pve-sim/dist/index.js'));
const { loadLab, Secrets, connectLab } = await import(join(ROOT, 'packages/core/dist/index.js'));
const { runRunway } = await import(join(ROOT, 'packages/l0-runway/dist/index.js'));
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const SECRET = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const NODES = ['pve1', 'pve2', 'pve3'];
const GUESTS = 200;

const guests = Array.from({ length: GUESTS }, (_, i) => ({
  vmid: 1000 + i,
  node: NODES[i % 3],
  name: `host-${i}`,
  config: { memory: '1024', cores: 1, tags: 'ahl;bench', scsi0: `local-lvm:vm-${1000 + i}-disk-0,size=8G`, ipconfig0: `ip=10.1.${i >> 8}.${(i & 255) + 1}/16,gw=10.1.255.254` },
}));
const sim = await startSim({
  https: false,
  authFailureDelayMs: 0,
  statsLagMs: 0,
  seed: {
    nodes: NODES.map((name) => ({ name, bridges: [{ iface: 'vmbr0', cidr: '10.0.0.2/24' }] })),
    storages: [
      { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'import', 'snippets', 'backup'], size: 500 },
      { id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 4000 },
    ],
    users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
    acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
    guests,
  },
});
const dir = mkdtempSync(join(tmpdir(), 'ahl-bench-runway-'));
try {
  const hosts = guests.map((g, i) => `  ${g.name}: {node: ${g.node}, ip: 10.1.${i >> 8}.${(i & 255) + 1}/16, gateway: 10.1.255.254, vmid: ${g.vmid}}`).join('\n');
  const files = {
    'lab.yaml': `name: bench\nproxmox:\n  endpoint: ${sim.url}\n  tokenId: ahl@pve!ahl\n  tokenSecret: env:T\nnodes:\n${NODES.map((n) => `  ${n}: {}`).join('\n')}\ndefaults:\n  storage: {vm: local-lvm, iso: local, snippets: local}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR b@b]\n`,
    'images/deb.yaml': 'os: {family: debian, release: bookworm}\nsource:\n  url: https://images.test/deb.qcow2\n  checksumUrl: https://images.test/SHA512SUMS\n',
    'personas/fleet.yaml': `template: deb@stable\nhosts:\n${hosts}\n`,
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const { lab, errors } = await loadLab(dir);
  if (!lab) throw new Error(JSON.stringify(errors[0]));
  const client = await connectLab(lab.config, new Secrets({ env: { T: SECRET }, baseDir: dir }), dir);
  const times = [];
  let last;
  for (let i = 0; i < RUNS + 1; i++) {
    const t0 = process.hrtime.bigint();
    last = await runRunway(lab, client);
    if (i > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await client.close();
  const rows = [{ measure: `runway, 3 nodes, ${GUESTS} guests (${last.calls} API calls, status ${last.status})`, median_ms: median(times), target_ms: 1000 }];
  table('runway', rows);
  record('runway', { runs: RUNS, guests: GUESTS, nodes: NODES.length, calls: last.calls, rows });
  process.exitCode = rows.every((r) => r.median_ms <= r.target_ms) ? 0 : 1;
} finally {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}
