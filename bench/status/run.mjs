#!/usr/bin/env node
// bench/status: `ahl status` (the real CLI, a fresh process each run) on labs of 10, 100 and 500 VMs
// against pve-sim: wall time and Proxmox API calls, from the sim's own accounting.
// Target (issue "Operator workflows"): at most 2 API calls for any number of guests.
// The comparison with `terraform plan -refresh-only` (issue "Benchmarks side by side") waits for L2.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, record, table } from '../lib.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { startSim } = await import(join(ROOT, 'packages/pve-sim/dist/index.js'));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZES = (process.env.BENCH_STATUS_SIZES ?? '10,100,500').split(',').map(Number);
const SECRET = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const NODES = ['pve1', 'pve2', 'pve3'];
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const run = promisify(execFile);

async function measure(n) {
  const guests = Array.from({ length: n }, (_, i) => ({
    vmid: 1000 + i,
    node: NODES[i % 3],
    name: `host-${i}`,
    running: i % 7 !== 0,
    config: { memory: '1024', cores: 1, tags: 'ahl;fleet', scsi0: `local-lvm:vm-${1000 + i}-disk-0,size=8G` },
  }));
  const sim = await startSim({
    https: false,
    authFailureDelayMs: 0,
    statsLagMs: 0,
    seed: {
      nodes: NODES.map((name) => ({ name, bridges: [{ iface: 'vmbr0' }] })),
      storages: [{ id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 8000 }],
      users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
      acl: [{ path: '/', roles: ['PVEAuditor'], users: ['ahl@pve'] }],
      guests,
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'ahl-bench-status-'));
  try {
    const hosts = guests.map((g, i) => `  ${g.name}: {node: ${g.node}, ip: 10.1.${Math.floor(i / 250)}.${(i % 250) + 2}/16, gateway: 10.1.255.254, vmid: ${g.vmid}}`).join('\n');
    const files = {
      'lab.yaml': `name: bench\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T"}\nnodes:\n${NODES.map((x) => `  ${x}: {}`).join('\n')}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR b@b]\n`,
      'images/deb.yaml': 'os: {family: debian, release: bookworm}\nsource: {url: "https://images.test/deb.qcow2", checksumUrl: "https://images.test/SHA512SUMS"}\n',
      'personas/fleet.yaml': `template: deb@stable\nsystem: {packages: [tree]}\nhosts:\n${hosts}\n`,
    };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    const times = [];
    let calls = 0;
    for (let i = 0; i < RUNS + 1; i++) {
      sim.stats.reset();
      const t0 = process.hrtime.bigint();
      // Asynchronously: the sim answers from this process's event loop.
      const r = await run(process.execPath, [BIN, 'status', '--json', '--dir', dir], { env: { ...process.env, T: SECRET }, maxBuffer: 64 << 20 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (JSON.parse(r.stdout).hosts.length !== n) throw new Error('wrong host count');
      calls = Object.values(sim.stats.snapshot()).reduce((s, x) => s + x.count, 0);
      if (i > 0) times.push(ms);
    }
    return { ms: median(times), calls };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
for (const n of SIZES) {
  const { ms, calls } = await measure(n);
  rows.push({ measure: `ahl status, ${n} VMs: wall time (a fresh CLI process)`, median_ms: ms });
  rows.push({ measure: `ahl status, ${n} VMs: Proxmox API calls`, median_ms: calls, target_ms: 2 });
}
table('status', rows);
record('status', { runs: RUNS, sizes: SIZES, note: 'target_ms on the API-call rows is the call budget (2), not a time', rows });
process.exitCode = rows.every((r) => r.target_ms === undefined || r.median_ms <= r.target_ms) ? 0 : 1;
