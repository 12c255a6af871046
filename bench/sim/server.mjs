#!/usr/bin/env node
// bench/sim server: a pve-sim with 500 guests on 3 nodes, plain HTTP on loopback.
// Started by run.mjs (pinned to one core with taskset when it can); prints one JSON line
// {apiUrl, url, token, secret, control, controlToken, guests} and runs until SIGTERM. Extra flags go to `node`
// (run.mjs passes --cpu-prof when BENCH_PROFILE is set).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { startSim } = await import(join(ROOT, 'packages/pve-sim/dist/index.js'));

const GUESTS = Number(process.env.BENCH_GUESTS ?? 500);
const NODES = ['pve1', 'pve2', 'pve3'];
const TOKEN = { id: 'ahl@pve!bench', secret: '0b0b0b0b-1111-4222-8333-444444444444' };

/** The seed: `count` guests (a template and count - 1 clones), a third of them running, some in a pool, tagged. */
function benchSeed(count) {
  const guests = [
    {
      vmid: 9000,
      name: 'tpl-noble',
      template: true,
      config: { memory: '2048', cores: 2, scsihw: 'virtio-scsi-single', scsi0: 'local-lvm:base-9000-disk-0,size=4G', ide2: 'local-lvm:vm-9000-cloudinit,media=cdrom', net0: 'virtio=BC:24:11:00:90:00,bridge=vmbr0', agent: '1' },
    },
  ];
  for (let i = 0; i < count - 1; i++) {
    const vmid = 1000 + i;
    const hex = (n) => n.toString(16).toUpperCase().padStart(2, '0');
    guests.push({
      vmid,
      node: NODES[i % NODES.length],
      name: `host-${vmid}`,
      running: i % 3 === 0,
      ...(i % 4 === 0 ? { pool: 'lab' } : {}),
      config: {
        memory: String(1024 * (1 + (i % 4))),
        cores: 1 + (i % 4),
        sockets: 1,
        scsihw: 'virtio-scsi-single',
        scsi0: `local-lvm:vm-${vmid}-disk-0,iothread=1,size=${8 + (i % 3) * 8}G`,
        ide2: `local-lvm:vm-${vmid}-cloudinit,media=cdrom`,
        net0: `virtio=BC:24:11:${hex(i >> 8)}:${hex(i & 255)}:01,bridge=vmbr0,tag=${100 + (i % 10)}`,
        ipconfig0: `ip=10.1.${i >> 8}.${i & 255}/16,gw=10.1.0.1`,
        agent: '1',
        boot: 'order=scsi0',
        tags: `ahl;persona-${i % 50}`,
      },
    });
  }
  return {
    pveVersion: '9.1.1',
    clusterName: 'bench',
    seed: 7,
    nodes: NODES.map((name, i) => ({ name, ip: `10.0.0.${11 + i}`, cpus: 64, memoryGiB: 1024, bridges: [{ iface: 'vmbr0', cidr: `10.0.0.${11 + i}/24`, gateway: '10.0.0.1', ports: 'eno1', vlanAware: true }] })),
    storages: [
      { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'vztmpl', 'import', 'backup', 'snippets'], size: 1000 },
      { id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], size: '20T' },
    ],
    pools: [{ id: 'lab' }],
    users: [{ id: 'ahl@pve', tokens: [{ id: 'bench', secret: TOKEN.secret, privsep: true }] }],
    acl: [{ path: '/', roles: ['PVEVMAdmin', 'PVEAuditor'], users: ['ahl@pve'], tokens: [TOKEN.id] }],
    guests,
  };
}

// The control API (run.mjs reads and resets the call counts) is off unless asked for, and needs its own token.
const sim = await startSim({ seed: benchSeed(GUESTS), https: false, port: 0, host: '127.0.0.1', authFailureDelayMs: 0, statsLagMs: 0, taskDurationMs: 20, control: true });
process.stdout.write(
  `${JSON.stringify({ url: sim.url, apiUrl: sim.apiUrl, token: TOKEN.id, secret: TOKEN.secret, control: sim.control.url, controlToken: sim.control.token, guests: Object.keys(sim.state.guests).length })}\n`,
);
const stop = () => sim.stop().then(() => process.exit(0), () => process.exit(1));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
