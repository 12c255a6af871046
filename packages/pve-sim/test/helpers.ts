import proxmoxApi, { type Proxmox } from 'proxmox-api';
import { type RunningSim, type SeedConfig, type SimOptions, startSim } from '../src/index.js';

export const NODE = 'pve1';

export const SEED: SeedConfig = {
  pveVersion: '9.1.1',
  clusterName: 'lab',
  seed: 42,
  nodes: [
    { name: 'pve1', ip: '10.0.0.11', bridges: [{ iface: 'vmbr0', cidr: '10.0.0.11/24', gateway: '10.0.0.1', ports: 'eno1', vlanAware: true }] },
    { name: 'pve2', ip: '10.0.0.12' },
  ],
  storages: [
    { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'vztmpl', 'import', 'backup', 'snippets', 'images'], size: 100 },
    { id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], size: 64 },
    { id: 'tank', type: 'zfspool', pool: 'tank', content: ['images'], size: 32, nodes: ['pve1'] },
    { id: 'shared', type: 'dir', path: '/mnt/pve/shared', content: ['images', 'iso'], shared: true, size: 200 },
  ],
  files: [
    { volid: 'local:iso/debian-12.iso', size: '600M' },
    { volid: 'local:import/noble.qcow2', size: '2G' },
  ],
  pools: [{ id: 'lab', comment: 'the lab' }],
  users: [
    {
      id: 'ahl@pve',
      password: 'secret',
      tokens: [
        { id: 'ci', secret: '11111111-2222-4333-8444-555555555555', privsep: true },
        { id: 'none', secret: '66666666-7777-4888-9999-000000000000', privsep: true },
      ],
    },
    { id: 'auditor@pve', password: 'audit', tokens: [{ id: 'ro', secret: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee', privsep: false }] },
    { id: 'off@pve', password: 'x', enable: false },
  ],
  acl: [
    { path: '/', roles: ['Administrator'], users: ['ahl@pve'], tokens: ['ahl@pve!ci'] },
    { path: '/', roles: ['PVEAuditor'], users: ['auditor@pve'] },
  ],
  guests: [
    {
      vmid: 9000,
      name: 'tpl-noble',
      template: true,
      config: {
        memory: '2048',
        cores: 2,
        sockets: 1,
        scsihw: 'virtio-scsi-single',
        scsi0: 'local-lvm:base-9000-disk-0,iothread=1,size=4G',
        ide2: 'local-lvm:vm-9000-cloudinit,media=cdrom',
        net0: 'virtio=BC:24:11:00:90:00,bridge=vmbr0',
        agent: '1',
        boot: 'order=scsi0',
        serial0: 'socket',
        vga: 'serial0',
      },
    },
  ],
};

export const TOKEN = { id: 'ahl@pve!ci', secret: '11111111-2222-4333-8444-555555555555' };
export const NO_ACL_TOKEN = { id: 'ahl@pve!none', secret: '66666666-7777-4888-9999-000000000000' };
export const AUDIT_TOKEN = { id: 'auditor@pve!ro', secret: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' };

export function testSim(overrides: Partial<SimOptions> = {}): Promise<RunningSim> {
  return startSim({ seed: SEED, https: false, authFailureDelayMs: 0, taskDurationMs: 20, statsLagMs: 0, ...overrides });
}

export function tokenClient(sim: RunningSim, token: { id: string; secret: string } = TOKEN): Proxmox.Api {
  return proxmoxApi({ host: sim.host, port: sim.port, schema: 'http', tokenID: token.id, tokenSecret: token.secret });
}

export function passwordClient(sim: RunningSim, username: string, password: string): Proxmox.Api {
  return proxmoxApi({ host: sim.host, port: sim.port, schema: 'http', username, password });
}

/** Polls a task as clients do until it stops; returns its final status. */
export async function waitTask(px: Proxmox.Api, upid: string, node = NODE): Promise<{ status: string; exitstatus?: string }> {
  const deadline = Date.now() + 10000;
  for (;;) {
    const st = (await px.nodes.$(node).tasks.$(upid).status.$get()) as { status: string; exitstatus?: string };
    if (st.status === 'stopped') return st;
    if (Date.now() > deadline) throw new Error(`task ${upid} did not finish`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Expects a rejected proxmox-api call and returns its error text. */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the call to fail');
}

/** Raw request with form body, as bpg/proxmoxer send them. */
export async function raw(
  sim: RunningSim,
  method: string,
  path: string,
  opts: { form?: Record<string, string | number>; body?: string; headers?: Record<string, string>; token?: { id: string; secret: string } | null; query?: string } = {},
): Promise<{ status: number; statusText: string; headers: Headers; text: string; json: () => unknown }> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token) headers.Authorization = `PVEAPIToken=${token.id}=${token.secret}`;
  let body: string | undefined = opts.body;
  if (opts.form) {
    body = new URLSearchParams(Object.entries(opts.form).map(([k, v]): [string, string] => [k, String(v)])).toString();
    headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
  }
  const res = await fetch(`${sim.apiUrl}${path}${opts.query ? `?${opts.query}` : ''}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, statusText: res.statusText, headers: res.headers, text, json: () => JSON.parse(text) };
}
