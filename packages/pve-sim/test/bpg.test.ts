import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSim } from '../src/index.js';
import { raw, testSim } from './helpers.js';

// Replays of the bpg/terraform-provider-proxmox call sequences (reference §9),
// with bpg's encoding: form bodies, 1/0 booleans, comma-joined `delete`.

let sim: RunningSim;
let files: Server;
let filesUrl: string;

beforeAll(async () => {
  sim = await testSim();
  files = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': '1000' });
    res.end(req.method === 'HEAD' ? undefined : Buffer.alloc(1000, 7));
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sim.stop();
  await new Promise<void>((r) => files.close(() => r()));
});

type Json = { data: any; errors?: Record<string, string>; message?: string };
const get = async (path: string, query?: string): Promise<Json> => (await raw(sim, 'GET', path, query ? { query } : {})).json() as Json;

/** bpg's task wait: poll status every tick, 400 means "not visible yet". */
async function pollTask(upid: string): Promise<string> {
  const node = upid.split(':')[1];
  for (let i = 0; i < 500; i++) {
    const r = await raw(sim, 'GET', `/nodes/${node}/tasks/${encodeURIComponent(upid)}/status`);
    if (r.status === 200) {
      const st = (r.json() as Json).data as { status: string; exitstatus?: string };
      if (st.status === 'stopped') return st.exitstatus ?? '';
    }
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error('task did not stop');
}

describe('bpg 9.1: create by clone, configure, start', () => {
  it('runs the sequence and ends with a running, configured VM', async () => {
    const vmid = Number((await get('/cluster/nextid')).data);
    expect(vmid).toBe(100);
    const retry = await raw(sim, 'GET', '/cluster/nextid', { query: 'vmid=9000' });
    expect(retry.status).toBe(400);

    const clone = await raw(sim, 'POST', '/nodes/pve1/qemu/9000/clone', { form: { newid: vmid, full: 1, name: 'web-1', description: 'managed by terraform' } });
    expect(clone.status).toBe(200);
    expect(await pollTask((clone.json() as Json).data)).toBe('OK');

    for (;;) {
      const st = (await get(`/nodes/pve1/qemu/${vmid}/status/current`)).data as { lock?: string };
      if (!st.lock) break;
    }
    const cfg0 = (await get(`/nodes/pve1/qemu/${vmid}/config`)).data as Record<string, unknown>;
    expect(cfg0.ide2).toBe(`local-lvm:vm-${vmid}-cloudinit,media=cdrom`);

    expect((await raw(sim, 'PUT', `/nodes/pve1/qemu/${vmid}/config`, { form: { delete: 'ide2' } })).json()).toEqual({ data: null });
    const deletes = [...Array.from({ length: 31 }, (_, i) => `net${i + 1}`), 'serial1', 'serial2', 'serial3'].join(',');
    const keys = encodeURIComponent('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG7 ops@lab\nssh-rsa AAAAB3NzaC1yc2E ops2').replace(/\+/g, '%20');
    const put = await raw(sim, 'PUT', `/nodes/pve1/qemu/${vmid}/config`, {
      form: {
        agent: 'enabled=1,fstrim_cloned_disks=0,type=virtio',
        balloon: 0,
        bios: 'seabios',
        cores: 2,
        cpu: 'x86-64-v2-AES',
        cpuunits: 1024,
        ide2: 'local-lvm:cloudinit',
        ciuser: 'ops',
        cipassword: 's3cret',
        ciupgrade: 0,
        sshkeys: keys,
        ipconfig0: 'ip=10.0.0.21/24,gw=10.0.0.1',
        nameserver: '10.0.0.1',
        searchdomain: 'lab.internal',
        memory: '2048',
        numa: 0,
        onboot: 1,
        ostype: 'l26',
        net0: 'virtio=BC:24:11:00:00:21,bridge=vmbr0,firewall=0',
        serial0: 'socket',
        vga: 'type=serial0',
        sockets: 1,
        tags: 'terraform;web',
        scsihw: 'virtio-scsi-single',
        tablet: 1,
        delete: deletes,
      },
    });
    expect(put.json()).toEqual({ data: null });

    const cfg = (await get(`/nodes/pve1/qemu/${vmid}/config`)).data as Record<string, unknown>;
    expect(cfg).toMatchObject({ cores: 2, sockets: 1, onboot: 1, numa: 0, balloon: 0, memory: '2048', sshkeys: keys, net0: 'virtio=BC:24:11:00:00:21,bridge=vmbr0,firewall=0' });
    expect(cfg.ide2).toBe(`local-lvm:vm-${vmid}-cloudinit,media=cdrom`);

    const resize = await raw(sim, 'PUT', `/nodes/pve1/qemu/${vmid}/resize`, { form: { disk: 'scsi0', size: '20G' } });
    expect(await pollTask((resize.json() as Json).data)).toBe('OK');
    expect(((await get(`/nodes/pve1/qemu/${vmid}/config`)).data as { scsi0: string }).scsi0).toBe(`local-lvm:vm-${vmid}-disk-0,iothread=1,size=20G`);

    expect(((await get(`/nodes/pve1/qemu/${vmid}/status/current`)).data as { status: string }).status).toBe('stopped');
    const start = await raw(sim, 'POST', `/nodes/pve1/qemu/${vmid}/status/start`, { form: { timeout: 300 } });
    expect(await pollTask((start.json() as Json).data)).toBe('OK');
    expect(((await get(`/nodes/pve1/qemu/${vmid}/status/current`)).data as { status: string }).status).toBe('running');
    const user = (await get(`/nodes/pve1/qemu/${vmid}/cloudinit/dump`, 'type=user')).data as string;
    expect(user).toContain('ssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG7 ops@lab\n  - ssh-rsa AAAAB3NzaC1yc2E ops2\n');
    expect(user).not.toContain('package_upgrade');
    expect(user).toContain('fqdn: web-1.lab.internal\n');
  });
});

describe('bpg 9.2: refresh read', () => {
  it('finds the VM, reads config/status/disks/pools and waits for agent IPs', async () => {
    sim.stats.reset();
    const vms = (await get('/cluster/resources', 'type=vm')).data as { vmid: number; node: string }[];
    const entry = vms.find((v) => v.vmid === 100)!;
    expect(entry.node).toBe('pve1');
    const cfg = (await get('/nodes/pve1/qemu/100/config')).data as Record<string, string>;
    const status = (await get('/nodes/pve1/qemu/100/status/current')).data as { status: string; vmid: number; maxmem: number; cpus: number };
    expect(status).toMatchObject({ status: 'running', vmid: 100, maxmem: 2048 * 1024 * 1024, cpus: 2 });
    for (const k of ['scsi0']) {
      const volid = cfg[k]!.split(',')[0]!;
      const r = await raw(sim, 'GET', `/nodes/pve1/storage/${volid.split(':')[0]}/content/${volid.replace('/', '%2F')}`);
      expect((r.json() as Json).data).toMatchObject({ format: 'raw', size: 20 * 1024 ** 3 });
    }
    const pools = (await get('/pools')).data as { poolid: string }[];
    for (const p of pools) expect((await get('/pools', `poolid=${p.poolid}`)).data).toHaveLength(1);
    const agent = (await get('/nodes/pve1/qemu/100/agent/network-get-interfaces')).data as { result: { 'ip-addresses': { 'ip-address': string }[] }[] };
    expect(agent.result[1]!['ip-addresses'][0]!['ip-address']).toBe('10.0.0.21');
    const stats = sim.stats.snapshot();
    expect(stats['GET /cluster/resources']!.count).toBe(1);
    expect(stats['GET /nodes/{node}/qemu/{vmid}/config']!.count).toBe(1);
    expect(stats['GET /nodes/{node}/storage/{storage}/content/{volume}']!.count).toBe(1);
  });
});

describe('bpg 9.3: delete', () => {
  it('stops, deletes with purge, and then sees "does not exist"', async () => {
    expect(((await get('/nodes/pve1/qemu/100/status/current')).data as { status: string }).status).toBe('running');
    const stop = await raw(sim, 'POST', '/nodes/pve1/qemu/100/status/stop');
    expect(await pollTask((stop.json() as Json).data)).toBe('OK');
    const del = await raw(sim, 'DELETE', '/nodes/pve1/qemu/100', { query: 'destroy-unreferenced-disks=1&purge=1' });
    expect(await pollTask((del.json() as Json).data)).toBe('OK');
    const gone = await raw(sim, 'GET', '/nodes/pve1/qemu/100/status/current');
    expect(gone.status).toBe(500);
    expect(gone.statusText).toContain('does not exist');
    const again = await raw(sim, 'DELETE', '/nodes/pve1/qemu/100', { query: 'destroy-unreferenced-disks=1&purge=1' });
    expect(again.statusText).toContain('does not exist');
  });
});

describe('bpg 9.1 step 9: move_disk after a clone when the datastore differs', () => {
  it('moves a linked clone disk to another storage, deleting or keeping the source', async () => {
    const clone = await raw(sim, 'POST', '/nodes/pve1/qemu/9000/clone', { form: { newid: 610, full: 0, name: 'moved' } });
    expect(await pollTask((clone.json() as Json).data)).toBe('OK');
    const before = (await get('/nodes/pve1/qemu/610/config')).data as Record<string, string>;
    expect(before.scsi0).toMatch(/^local-lvm:base-9000-disk-0\/vm-610-disk-0,|^local-lvm:vm-610-disk-0,/);
    const oldVolid = before.scsi0!.split(',')[0]!;

    const mv = await raw(sim, 'POST', '/nodes/pve1/qemu/610/move_disk', { form: { disk: 'scsi0', storage: 'local', delete: 1 } });
    expect(mv.status).toBe(200);
    const upid = (mv.json() as Json).data as string;
    expect(upid).toMatch(/:qmmove:610:ahl@pve!ci:$/);
    expect(await pollTask(upid)).toBe('OK');
    const after = (await get('/nodes/pve1/qemu/610/config')).data as Record<string, string>;
    expect(after.scsi0).toBe('local:610/vm-610-disk-0.raw,iothread=1,size=4G');
    expect(after.unused0).toBeUndefined();
    expect(sim.state.volumes.find((v) => v.volid === oldVolid)).toBeUndefined();
    const content = (await get('/nodes/pve1/storage/local/content', 'content=images&vmid=610')).data as { volid: string; size: number }[];
    expect(content).toEqual([expect.objectContaining({ volid: 'local:610/vm-610-disk-0.raw', size: 4 * 1024 ** 3, format: 'raw' })]);
    const log = (await get(`/nodes/pve1/tasks/${encodeURIComponent(upid)}/log`)).data as { t: string }[];
    expect(log[0]!.t).toBe(`create full clone of drive scsi0 (${oldVolid})`);

    // Without delete the source stays as unusedN; the format can change on a dir storage.
    const back = await raw(sim, 'POST', '/nodes/pve1/qemu/610/move_disk', { form: { disk: 'scsi0', storage: 'local-lvm' } });
    expect(await pollTask((back.json() as Json).data)).toBe('OK');
    const kept = (await get('/nodes/pve1/qemu/610/config')).data as Record<string, string>;
    expect(kept.scsi0).toBe('local-lvm:vm-610-disk-0,iothread=1,size=4G');
    expect(kept.unused0).toBe('local:610/vm-610-disk-0.raw');
    const fmt = await raw(sim, 'POST', '/nodes/pve1/qemu/610/move_disk', { form: { disk: 'unused0', storage: 'local' } });
    expect(fmt.statusText).toBe("cannot move disk 'unused0', only configured disks can be moved to another storage");

    const fail = async (form: Record<string, string | number>): Promise<[number, string]> => {
      const r = await raw(sim, 'POST', '/nodes/pve1/qemu/610/move_disk', { form });
      return [r.status, r.statusText];
    };
    expect(await fail({ disk: 'scsi0', storage: 'local-lvm' })).toEqual([500, "you can't move to the same storage with same format"]);
    expect(await fail({ disk: 'ide2', storage: 'local' })).toEqual([500, "you can't move a cdrom"]);
    expect(await fail({ disk: 'scsi5', storage: 'local' })).toEqual([500, "disk 'scsi5' does not exist"]);
    expect(await fail({ disk: 'scsi0', storage: 'nope' })).toEqual([500, "storage 'nope' does not exist"]);
    expect((await fail({ disk: 'scsi0' }))[0]).toBe(400);
    const full = sim.faults.add({ kind: 'storageFull', storage: 'tank' });
    const nospace = await raw(sim, 'POST', '/nodes/pve1/qemu/610/move_disk', { form: { disk: 'scsi0', storage: 'tank', delete: 1 } });
    expect(await pollTask((nospace.json() as Json).data)).toMatch(/^storage migration failed: zfs error: cannot create 'tank\/vm-610-disk-\d+': out of space$/);
    sim.faults.remove(full);
    expect(((await get('/nodes/pve1/qemu/610/config')).data as Record<string, string>).scsi0).toBe(kept.scsi0);
  });
});

describe('bpg 9.4: download file', () => {
  it('metadata, download with node/storage in the form, list, overwrite flow, delete', async () => {
    const meta = (await get('/nodes/pve1/query-url-metadata', `url=${encodeURIComponent(`${filesUrl}/img/noble.img`)}&verify-certificates=0`)).data as { filename: string; size: number };
    expect(meta).toMatchObject({ filename: 'noble.img', size: 1000 });
    const form = { content: 'iso', filename: 'noble.img', node: 'pve1', storage: 'local', url: `${filesUrl}/img/noble.img`, 'verify-certificates': 0 };
    const dl = await raw(sim, 'POST', '/nodes/pve1/storage/local/download-url', { form });
    expect(await pollTask((dl.json() as Json).data)).toBe('OK');
    const list = (await get('/nodes/pve1/storage/local/content', 'content=iso')).data as { volid: string; size: number }[];
    expect(list.find((v) => v.volid === 'local:iso/noble.img')?.size).toBe(1000);

    const again = await raw(sim, 'POST', '/nodes/pve1/storage/local/download-url', { form });
    const upid = (again.json() as Json).data as string;
    expect(await pollTask(upid)).toBe("refusing to override existing file '/var/lib/vz/template/iso/noble.img'");
    const log = (await get(`/nodes/pve1/tasks/${encodeURIComponent(upid)}/log`, 'start=0&limit=50')).data as { t: string }[];
    expect(log.at(-1)!.t).toBe("TASK ERROR: refusing to override existing file '/var/lib/vz/template/iso/noble.img'");
    expect((await raw(sim, 'DELETE', `/nodes/pve1/tasks/${encodeURIComponent(upid)}`)).json()).toEqual({ data: null });
    const rm = await raw(sim, 'DELETE', '/nodes/pve1/storage/local/content/iso%2Fnoble.img');
    expect(await pollTask((rm.json() as Json).data)).toBe('OK');
    const redo = await raw(sim, 'POST', '/nodes/pve1/storage/local/download-url', { form });
    expect(await pollTask((redo.json() as Json).data)).toBe('OK');
    const del = await raw(sim, 'DELETE', '/nodes/pve1/storage/local/content/local:iso%2Fnoble.img');
    expect((del.json() as Json).data).toMatch(/:imgdel:local:/);
  });
});
