import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Proxmox } from 'proxmox-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSim } from '../src/index.js';
import { UPID_RE } from '../src/index.js';
import { AUDIT_TOKEN, NODE, NO_ACL_TOKEN, failure, passwordClient, testSim, tokenClient, waitTask } from './helpers.js';

// Contract tests: the real npm `proxmox-api` client (1.1.1) against the sim.

let sim: RunningSim;
let px: Proxmox.Api;
let files: Server;
let filesUrl: string;
const IMAGE = Buffer.from('pretend this is a qcow2 cloud image\n'.repeat(100));

beforeAll(async () => {
  sim = await testSim();
  px = tokenClient(sim);
  files = createServer((req, res) => {
    if (req.url === '/noble.img' || req.url === '/debian.iso') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(IMAGE.length) });
      res.end(req.method === 'HEAD' ? undefined : IMAGE);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await sim.stop();
  await new Promise<void>((r) => files.close(() => r()));
});

const node = () => px.nodes.$(NODE);
const vm = (vmid: number) => node().qemu.$(vmid);

describe('cluster, nodes and access', () => {
  it('GET /version', async () => {
    expect(await px.version.$get()).toEqual({ version: '9.1.1', release: '9.1', repoid: expect.any(String) });
  });

  it('GET /nodes and /nodes/{node}/status', async () => {
    const nodes = await px.nodes.$get();
    expect(nodes.map((n) => n.node)).toEqual(['pve1', 'pve2']);
    expect(nodes[0]).toMatchObject({ status: 'online', type: 'node', id: 'node/pve1', maxcpu: 8 });
    const st = (await node().status.$get()) as Record<string, unknown>;
    expect(st.loadavg).toEqual(['0.12', '0.08', '0.05']);
    expect(st.memory).toMatchObject({ total: 32 * 1024 ** 3 });
    expect(st.pveversion).toMatch(/^pve-manager\/9\.1\.1\//);
  });

  it('GET /nodes/{node}/network filters bridges', async () => {
    const bridges = await node().network.$get({ type: 'any_bridge' });
    expect(bridges).toEqual([expect.objectContaining({ iface: 'vmbr0', type: 'bridge', cidr: '10.0.0.11/24', bridge_vlan_aware: 1 })]);
  });

  it('GET /nodes/{node}/disks/list: the default disk holds the node\'s LVM, so none is unused', async () => {
    const disks = await node().disks.list.$get();
    expect(disks).toEqual([expect.objectContaining({ devpath: '/dev/sda', type: 'ssd', used: 'LVM', model: 'Samsung SSD 870 EVO 500GB', size: 500 * 1024 ** 3, health: 'PASSED' })]);
    expect(await node().disks.list.$get({ type: 'unused' })).toEqual([]);
  });

  it('a device path is root@pam\'s alone: tokens get 403, root is sized from the node or told it does not exist', async () => {
    await waitTask(px, (await node().qemu.$post({ vmid: 180, name: 'pt' })) as string);
    const byId = '/dev/disk/by-id/ata-Samsung_SSD_870_EVO_500GB_S6PXNS0T100001';
    expect(await failure(vm(180).config.$put({ scsi1: byId }))).toMatch(/403 Only root can pass arbitrary filesystem paths\./);
    const root = passwordClient(sim, 'root@pam', 'root');
    await root.nodes.$(NODE).qemu.$(180).config.$put({ scsi1: `${byId},backup=0` });
    expect((await vm(180).config.$get()).scsi1).toBe(`${byId},backup=0,size=500G`);
    expect(await failure(root.nodes.$(NODE).qemu.$(180).config.$put({ scsi2: '/dev/disk/by-id/ata-NOPE_1' }))).toMatch(/500 volume \/dev\/disk\/by-id\/ata-NOPE_1 does not exist/);
    await waitTask(px, (await vm(180).$delete()) as string);
  });

  it('GET /cluster/status, /cluster/nextid', async () => {
    const status = await px.cluster.status.$get();
    expect(status[0]).toMatchObject({ type: 'cluster', name: 'lab', nodes: 2, quorate: 1 });
    expect(await px.cluster.nextid.$get()).toBe('100');
    expect(await px.cluster.nextid.$get({ vmid: 123 })).toBe('123');
    const err = await failure(px.cluster.nextid.$get({ vmid: 9000 }));
    expect(err).toContain('400 Parameter verification failed.');
    expect(err).toContain('"vmid":"VM 9000 already exists"');
  });

  it('GET /cluster/resources with numeric fields', async () => {
    const res = (await px.cluster.resources.$get({ type: 'vm' })) as Record<string, unknown>[];
    expect(res).toEqual([expect.objectContaining({ id: 'qemu/9000', vmid: 9000, template: 1, name: 'tpl-noble', status: 'stopped', node: 'pve1' })]);
    const all = (await px.cluster.resources.$get()) as { type: string }[];
    expect(new Set(all.map((r) => r.type))).toEqual(new Set(['qemu', 'node', 'storage', 'sdn', 'pool']));
  });

  it('GET /storage, /nodes/{node}/storage, status', async () => {
    const cfg = await px.storage.$get();
    expect(cfg.map((s) => s.storage)).toEqual(['local', 'local-lvm', 'shared', 'tank']);
    expect(await px.storage.$('local-lvm').$get()).toMatchObject({ type: 'lvmthin', vgname: 'pve', thinpool: 'data' });
    const list = (await node().storage.$get({ content: 'images' })) as Record<string, unknown>[];
    expect(list.map((s) => s.storage)).toEqual(['local', 'local-lvm', 'shared', 'tank']);
    const st = (await node().storage.$('local-lvm').status.$get()) as Record<string, number>;
    expect(st).toMatchObject({ type: 'lvmthin', active: 1, enabled: 1, shared: 0, total: 64 * 1024 ** 3 });
    expect(st.used).toBe(4 * 1024 ** 3 + 4 * 1024 * 1024);
    const err = await failure(node().storage.$get({ storage: 'nope' }));
    expect(err).toContain('"storage":"No such storage."');
  });

  it('storage content list and volume info (volid with %2F)', async () => {
    const iso = await node().storage.$('local').content.$get({ content: 'iso' });
    expect(iso).toEqual([expect.objectContaining({ volid: 'local:iso/debian-12.iso', format: 'iso', size: 600 * 1024 * 1024 })]);
    const info = await node().storage.$('local').content.$('local:iso/debian-12.iso').$get();
    expect(info).toMatchObject({ path: '/var/lib/vz/template/iso/debian-12.iso', format: 'iso' });
    const lv = await node().storage.$('local-lvm').content.$('local-lvm:base-9000-disk-0').$get();
    expect(lv).toMatchObject({ path: '/dev/pve/base-9000-disk-0', size: 4 * 1024 ** 3, format: 'raw' });
  });

  it('pools: create, list with members, delete', async () => {
    await px.pools.$post({ poolid: 'web', comment: 'web tier' });
    expect(await px.pools.$get()).toEqual([{ poolid: 'lab', comment: 'the lab' }, { poolid: 'web', comment: 'web tier' }]);
    expect(await px.pools.$get({ poolid: 'web' })).toEqual([{ poolid: 'web', comment: 'web tier', members: [] }]);
    expect(await px.pools.$('web').$get()).toEqual({ comment: 'web tier', members: [] });
    await px.pools.$('web').$delete();
    expect(await failure(px.pools.$get({ poolid: 'web' }))).toContain("500 pool 'web' does not exist");
  });

  it('access: permissions, users, roles, acl, tokens', async () => {
    const perms = (await px.access.permissions.$get({ path: '/vms/100' })) as Record<string, Record<string, number>>;
    expect(perms['/vms/100']).toMatchObject({ 'VM.Allocate': 1, 'VM.Audit': 1 });
    const none = await tokenClient(sim, NO_ACL_TOKEN).access.permissions.$get();
    expect(none).toEqual({});
    const users = (await px.access.users.$get()) as { userid: string }[];
    expect(users.map((u) => u.userid)).toContain('ahl@pve');
    const roles = (await px.access.roles.$get()) as { roleid: string; privs: string }[];
    expect(roles.find((r) => r.roleid === 'PVEVMUser')?.privs.split(',')).toEqual(
      ['VM.Audit', 'VM.Backup', 'VM.Config.CDROM', 'VM.Config.Cloudinit', 'VM.Console', 'VM.GuestAgent.Audit', 'VM.PowerMgmt'],
    );
    const root = passwordClient(sim, 'root@pam', 'root');
    const created = (await root.access.users.$('ahl@pve').token.$('deploy').$post({ privsep: false })) as { value: string; 'full-tokenid': string };
    expect(created['full-tokenid']).toBe('ahl@pve!deploy');
    expect(created.value).toMatch(/^[0-9a-f-]{36}$/);
    await root.access.acl.$put({ path: '/vms', roles: 'PVEVMUser', tokens: 'ahl@pve!deploy' });
    const acl = (await root.access.acl.$get()) as { path: string; ugid: string }[];
    expect(acl).toContainEqual({ path: '/vms', type: 'token', ugid: 'ahl@pve!deploy', roleid: 'PVEVMUser', propagate: 1 });
    const tokens = (await root.access.users.$('ahl@pve').token.$get()) as { tokenid: string }[];
    expect(tokens.map((t) => t.tokenid)).toEqual(['ci', 'deploy', 'none']);
    await root.access.users.$('ahl@pve').token.$('deploy').$delete();
  });

  it('ticket login with CSRF, then writes with the ticket', async () => {
    const client = passwordClient(sim, 'ahl@pve', 'secret');
    expect(await client.cluster.nextid.$get()).toBe('100');
    await client.pools.$post({ poolid: 'ticketpool' });
    await client.pools.$('ticketpool').$delete();
  });
});

describe('errors as PVE gives them', () => {
  it('401 with the raw reason for a bad token secret (PVE 9.1.1)', async () => {
    const bad = tokenClient(sim, { id: 'ahl@pve!ci', secret: '00000000-0000-4000-8000-000000000000' });
    expect(await failure(bad.version.$get())).toMatch(/return Error 401 invalid token value!/);
    const missing = tokenClient(sim, { id: 'ahl@pve!nope', secret: '00000000-0000-4000-8000-000000000000' });
    expect(await failure(missing.version.$get())).toContain("401 no such token 'nope' for user 'ahl@pve'");
  });

  it('401 authentication failure at login', async () => {
    const bad = passwordClient(sim, 'ahl@pve', 'wrong');
    const err = (await bad.version.$get().catch((e: Error & { cause?: Error }) => e)) as Error & { cause?: Error };
    expect(err.cause?.message).toBe('login failed with 401: authentication failure {"data":null,"message":"authentication failure\\n"}');
  });

  it('403 names the missing privilege', async () => {
    const ro = tokenClient(sim, AUDIT_TOKEN);
    const err = await failure(ro.nodes.$(NODE).qemu.$(9000).status.start.$post());
    expect(err).toContain('403 Permission check failed (/vms/9000, VM.PowerMgmt)');
    const none = tokenClient(sim, NO_ACL_TOKEN);
    expect(await failure(none.nodes.$(NODE).qemu.$(9000).config.$get())).toContain('403 Permission check failed (/vms/9000, VM.Audit)');
    expect(await none.cluster.resources.$get()).toEqual([]);
  });

  it('403 for a token on an endpoint without allowtoken', async () => {
    const res = await fetch(`${sim.apiUrl}/access/ticket`, {
      method: 'POST',
      headers: { Authorization: `PVEAPIToken=ahl@pve!ci=11111111-2222-4333-8444-555555555555`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'username=ahl@pve&password=secret',
    });
    expect(res.status).toBe(403);
    expect(res.statusText).toBe("Permission check failed (URI '/access/ticket' not available with API token, need proper ticket.");
  });

  it('400 with per-parameter errors', async () => {
    const err = await failure(node().qemu.$post({ vmid: 'abc' as unknown as number, cores: 0, onboot: 'true' as unknown as boolean, bogus: 1 } as never));
    expect(err).toContain('400 Parameter verification failed.');
    const body = JSON.parse(err.slice(err.indexOf('{'))) as { errors: Record<string, string> };
    expect(body.errors).toEqual({
      vmid: "type check ('integer') failed - got 'abc'",
      cores: 'value must have a minimum value of 1',
      onboot: "type check ('boolean') failed - got 'true'",
      bogus: 'property is not defined in schema and the schema does not allow additional properties',
    });
  });

  it('400 for nested property-string errors', async () => {
    const err = await failure(node().qemu.$post({ vmid: 150, scsi0: 'local-lvm:4,discard=yes', net0: 'virtio,bridge=vmbr0,mtu=0' }));
    const body = JSON.parse(err.slice(err.indexOf('{'))) as { errors: Record<string, string> };
    expect(body.errors.scsi0).toBe("invalid format - format error\nscsi0.discard: value 'yes' does not have a value in the enumeration 'ignore, on'\n");
    expect(body.errors.net0).toBe('invalid format - format error\nnet0.mtu: value must have a minimum value of 1\n');
  });

  it('501 for an unknown path', async () => {
    const err = await failure((px.nodes.$(NODE) as unknown as { $: (x: string) => { $get(): Promise<unknown> } }).$('nothing-here').$get());
    expect(err).toContain("501 Method 'GET /nodes/pve1/nothing-here' not implemented");
  });

  it('500 for a missing VM config', async () => {
    expect(await failure(vm(777).config.$get())).toContain("500 Configuration file 'nodes/pve1/qemu-server/777.conf' does not exist");
  });
});

describe('qemu lifecycle', () => {
  it('create with storage:N, import-from and cloudinit; typed config', async () => {
    const upid = (await node().qemu.$post({
      vmid: 100,
      name: 'web1',
      memory: '1024',
      cores: 2,
      onboot: true,
      cpulimit: 1.5,
      scsihw: 'virtio-scsi-single',
      scsi0: 'local-lvm:0,import-from=local:import/noble.qcow2,discard=on,iothread=1',
      scsi1: 'local-lvm:8',
      virtio0: 'local:2,format=qcow2',
      ide2: 'local-lvm:cloudinit',
      ide0: 'local:iso/debian-12.iso,media=cdrom',
      net0: 'virtio,bridge=vmbr0,firewall=1',
      agent: 'enabled=1',
      ciuser: 'ops',
      cipassword: 'hunter2',
      sshkeys: encodeURIComponent('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx ops@lab'),
      ipconfig0: 'ip=10.0.0.50/24,gw=10.0.0.1',
      pool: 'lab',
    })) as string;
    expect(upid).toMatch(UPID_RE);
    expect(upid).toMatch(/^UPID:pve1:[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:qmcreate:100:ahl@pve!ci:$/);
    expect(await waitTask(px, upid)).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    const cfg = (await vm(100).config.$get()) as Record<string, unknown>;
    expect(cfg).toMatchObject({
      name: 'web1',
      memory: '1024',
      cores: 2,
      onboot: 1,
      cpulimit: '1.5',
      scsi0: 'local-lvm:vm-100-disk-0,discard=on,iothread=1,size=2G',
      scsi1: 'local-lvm:vm-100-disk-1,size=8G',
      virtio0: 'local:100/vm-100-disk-0.qcow2,format=qcow2,size=2G',
      ide2: 'local-lvm:vm-100-cloudinit,media=cdrom',
      ide0: 'local:iso/debian-12.iso,media=cdrom',
      boot: 'order=scsi0;ide0;net0',
      cipassword: '**********',
      agent: 'enabled=1',
    });
    expect(cfg.net0).toMatch(/^virtio=BC:24:11:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2},bridge=vmbr0,firewall=1$/);
    expect(cfg.smbios1).toMatch(/^uuid=[0-9a-f-]{36}$/);
    expect(cfg.digest).toMatch(/^[0-9a-f]{40}$/);
    const pool = (await px.pools.$get({ poolid: 'lab' })) as { members: { vmid: number }[] }[];
    expect(pool[0]!.members.map((m) => m.vmid)).toEqual([100]);
  });

  it('rejects a used vmid and a bad import source synchronously', async () => {
    expect(await failure(node().qemu.$post({ vmid: 100 }))).toContain("500 unable to create VM 100 - VM 100 already exists on node 'pve1'");
    const err = await failure(node().qemu.$post({ vmid: 101, scsi0: 'local-lvm:0,import-from=local:iso/debian-12.iso' }));
    expect(err).toContain(`"scsi0":"local:iso/debian-12.iso has wrong type 'iso' - needs to be 'images' or 'import'"`);
    const err2 = await failure(node().qemu.$post({ vmid: 101, scsi0: 'local-lvm:4,import-from=local:import/noble.qcow2' }));
    expect(err2).toContain("'import-from' requires special syntax - use <storage ID>:0,import-from=<source>");
    const err3 = await failure(node().qemu.$post({ vmid: 101, ide0: 'local:iso/debian-12.iso' }));
    expect(err3).toContain("explicit 'media=cdrom' is required for iso images");
  });

  it('PUT config: digest, delete of unset keys, conflicts, unknown delete', async () => {
    const cfg = (await vm(100).config.$get()) as { digest: string };
    expect(await vm(100).config.$put({ cores: 4, delete: 'net1,net2,serial3', digest: cfg.digest })).toBeNull();
    expect(await failure(vm(100).config.$put({ cores: 2, digest: cfg.digest }))).toContain('500 checksum mismatch (file change by other user?)');
    expect(await failure(vm(100).config.$put({ cores: 2, delete: 'cores' }))).toContain(`"delete":"you can't use '-cores' and -delete cores' at the same time"`);
    expect(await failure(vm(100).config.$put({ delete: 'nosuch' }))).toContain(`"delete":"unknown option 'nosuch'"`);
    expect(await failure(vm(100).config.$put({}))).toContain('500 no options specified');
    expect(await failure(vm(100).config.$put({ boot: 'order=scsi0;scsi7' }))).toContain("invalid bootorder: device 'scsi7' does not exist'");
    expect(((await vm(100).config.$get()) as { cores: number }).cores).toBe(4);
  });

  it('POST config returns a task; detached disks become unused', async () => {
    const upid = (await vm(100).config.$post({ delete: 'scsi1' })) as string;
    expect(upid).toContain(':qmconfig:100:');
    await waitTask(px, upid);
    const cfg = (await vm(100).config.$get()) as Record<string, unknown>;
    expect(cfg.scsi1).toBeUndefined();
    expect(cfg.unused0).toBe('local-lvm:vm-100-disk-1');
    await vm(100).config.$put({ delete: 'unused0' });
    const vols = (await node().storage.$('local-lvm').content.$get({ vmid: 100 })) as { volid: string }[];
    expect(vols.map((v) => v.volid)).toEqual(['local-lvm:vm-100-cloudinit', 'local-lvm:vm-100-disk-0']);
  });

  it('start, status, pending changes, agent, cloud-init dump, reboot, shutdown, stop', async () => {
    await waitTask(px, (await vm(100).status.start.$post()) as string);
    const st = (await vm(100).status.current.$get()) as Record<string, unknown>;
    expect(st).toMatchObject({ status: 'running', qmpstatus: 'running', vmid: 100, agent: 1, cpus: 4, maxmem: 1024 * 1024 * 1024, ha: { managed: 0 } });
    expect(typeof st.pid).toBe('number');
    const again = await waitTask(px, (await vm(100).status.start.$post()) as string);
    expect(again.exitstatus).toBe('VM 100 already running');
    await vm(100).config.$put({ memory: '2048', name: 'web1b' });
    const pending = (await vm(100).pending.$get()) as { key: string; value?: unknown; pending?: unknown }[];
    expect(pending.find((p) => p.key === 'memory')).toEqual({ key: 'memory', value: '1024', pending: '2048' });
    expect(pending.find((p) => p.key === 'name')).toEqual({ key: 'name', value: 'web1b' });
    expect(((await vm(100).config.$get()) as { memory: string }).memory).toBe('2048');
    expect(((await vm(100).config.$get({ current: true })) as { memory: string }).memory).toBe('1024');
    const ifaces = (await vm(100).agent['network-get-interfaces'].$get()) as { result: { name: string; 'ip-addresses': { 'ip-address': string }[] }[] };
    expect(ifaces.result.map((i) => i.name)).toEqual(['lo', 'eth0']);
    expect(ifaces.result[1]!['ip-addresses'][0]!['ip-address']).toBe('10.0.0.50');
    expect(await vm(100).agent.ping.$post()).toEqual({ result: {} });
    const user = (await vm(100).cloudinit.dump.$get({ type: 'user' })) as string;
    expect(user).toBe(
      '#cloud-config\nhostname: web1b\nmanage_etc_hosts: true\nfqdn: web1b\nuser: ops\npassword: ' +
        /password: (\S+)/.exec(user)![1] +
        '\nssh_authorized_keys:\n  - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx ops@lab\nchpasswd:\n  expire: False\nusers:\n  - default\npackage_upgrade: true\n',
    );
    const network = (await vm(100).cloudinit.dump.$get({ type: 'network' })) as string;
    expect(network).toContain("      - type: static\n        address: '10.0.0.50'\n        netmask: '255.255.255.0'\n        gateway: '10.0.0.1'\n");
    expect(await vm(100).cloudinit.dump.$get({ type: 'meta' })).toMatch(/^instance-id: [0-9a-f]{40}\n$/);
    await waitTask(px, (await vm(100).status.reboot.$post()) as string);
    expect(((await vm(100).config.$get({ current: true })) as { memory: string }).memory).toBe('2048');
    await waitTask(px, (await vm(100).status.reset.$post()) as string);
    await waitTask(px, (await vm(100).status.shutdown.$post({ forceStop: true, timeout: 30 })) as string);
    expect(((await vm(100).status.current.$get()) as { status: string }).status).toBe('stopped');
    expect(await failure(vm(100).agent.ping.$post())).toContain('500 VM 100 is not running');
    expect(await failure(vm(100).status.reboot.$post())).toContain('500 VM 100 not running');
    const stop = await waitTask(px, (await vm(100).status.stop.$post()) as string);
    expect(stop.exitstatus).toBe('OK');
  });

  it('resize grows and refuses to shrink (in the task)', async () => {
    const ok = await waitTask(px, (await vm(100).resize.$put({ disk: 'scsi0', size: '+2G' })) as string);
    expect(ok.exitstatus).toBe('OK');
    expect(((await vm(100).config.$get()) as { scsi0: string }).scsi0).toBe('local-lvm:vm-100-disk-0,discard=on,iothread=1,size=4G');
    const upid = (await vm(100).resize.$put({ disk: 'scsi0', size: '1G' })) as string;
    expect(upid).toContain(':resize:100:');
    expect((await waitTask(px, upid)).exitstatus).toBe('shrinking disks is not supported');
    expect((await waitTask(px, (await vm(100).resize.$put({ disk: 'scsi5', size: '1G' })) as string)).exitstatus).toBe("disk 'scsi5' does not exist");
    const log = (await node().tasks.$(upid).log.$get()) as { n: number; t: string }[];
    expect(log.at(-1)).toEqual({ n: log.length, t: 'TASK ERROR: shrinking disks is not supported' });
  });

  it('linked clone of a template holds lock: clone while running', async () => {
    sim.core.opts.taskDurationMs = { default: 20, qmclone: 300 };
    const upid = (await vm(9000).clone.$post({ newid: 200, name: 'app1' })) as string;
    expect(upid).toMatch(/:qmclone:9000:ahl@pve!ci:$/);
    await new Promise((r) => setTimeout(r, 60));
    expect(await vm(200).config.$get()).toEqual({ lock: 'clone', digest: expect.any(String) });
    expect(await vm(200).status.current.$get()).toMatchObject({ lock: 'clone', status: 'stopped' });
    expect(await failure(vm(200).config.$put({ cores: 1 }))).toContain('500 VM is locked (clone)');
    expect((await waitTask(px, upid)).exitstatus).toBe('OK');
    sim.core.opts.taskDurationMs = 20;
    const cfg = (await vm(200).config.$get()) as Record<string, string>;
    expect(cfg.name).toBe('app1');
    expect(cfg.lock).toBeUndefined();
    expect(cfg.template).toBeUndefined();
    expect(cfg.scsi0).toBe('local-lvm:vm-200-disk-0,iothread=1,size=4G');
    expect(cfg.ide2).toBe('local-lvm:vm-200-cloudinit,media=cdrom');
    expect(cfg.net0).not.toContain('BC:24:11:00:90:00');
    const disk = (await node().storage.$('local-lvm').content.$get({ vmid: 200 })) as { volid: string; parent?: string }[];
    expect(disk.find((d) => d.volid === 'local-lvm:vm-200-disk-0')?.parent).toBe('local-lvm:base-9000-disk-0');
  });

  it('full clone to another storage; linked-clone rules', async () => {
    await waitTask(px, (await vm(9000).clone.$post({ newid: 201, full: true, storage: 'tank' })) as string);
    const cfg = (await vm(201).config.$get()) as Record<string, string>;
    expect(cfg.name).toBe('Copy-of-VM-tpl-noble');
    expect(cfg.scsi0).toBe('tank:vm-201-disk-0,iothread=1,size=4G');
    expect(await failure(vm(9000).clone.$post({ newid: 202, full: false, storage: 'tank' }))).toContain("500 parameter 'storage' not allowed for linked clones");
    expect(await failure(vm(100).clone.$post({ newid: 202, full: false }))).toContain("Linked clone feature is not supported for 'local-lvm:vm-100-disk-0' (scsi0)");
    expect(await failure(vm(9000).clone.$post({ newid: 201 }))).toContain('500 unable to create VM 201: config file already exists');
    expect(await failure(vm(9000).clone.$post({ newid: 203, pool: 'nopool' }))).toContain("403 Permission check failed (pool 'nopool' does not exist)");
    expect(await failure(vm(9000).clone.$post({ newid: 203, target: 'pve2' }))).toContain("can't clone VM to node 'pve2' (VM uses local storage)");
  });

  it('template conversion renames disks to base-', async () => {
    await waitTask(px, (await vm(201).template.$post()) as string);
    const cfg = (await vm(201).config.$get()) as Record<string, unknown>;
    expect(cfg).toMatchObject({ template: 1, scsi0: 'tank:base-201-disk-0,iothread=1,size=4G' });
    expect(await failure(vm(201).template.$post())).toContain("500 you can't convert a template to a template");
    const start = await waitTask(px, (await vm(201).status.start.$post()) as string);
    expect(start.exitstatus).toBe("you can't start a vm if it's a template");
    await waitTask(px, (await vm(201).clone.$post({ newid: 204 })) as string);
    expect(((await vm(204).config.$get()) as { scsi0: string }).scsi0).toBe('tank:base-201-disk-0/vm-204-disk-0,iothread=1,size=4G');
  });

  it('vzdump to backup storage, restore with archive', async () => {
    const upid = (await node().vzdump.$post({ vmid: '100', storage: 'local', mode: 'snapshot', compress: 'zstd' })) as string;
    expect(upid).toContain(':vzdump:100:');
    expect((await waitTask(px, upid)).exitstatus).toBe('OK');
    const backups = (await node().storage.$('local').content.$get({ content: 'backup' })) as unknown as { volid: string; format: string; subtype: string }[];
    expect(backups).toHaveLength(1);
    expect(backups[0]!.volid).toMatch(/^local:backup\/vzdump-qemu-100-\d{4}_\d\d_\d\d-\d\d_\d\d_\d\d\.vma\.zst$/);
    const restore = (await node().qemu.$post({ vmid: 300, archive: backups[0]!.volid, storage: 'local-lvm' })) as string;
    expect(restore).toContain(':qmrestore:300:');
    expect((await waitTask(px, restore)).exitstatus).toBe('OK');
    const cfg = (await vm(300).config.$get()) as Record<string, string>;
    expect(cfg.scsi0).toBe('local-lvm:vm-300-disk-0,discard=on,iothread=1,size=4G');
    expect(cfg.name).toBe('web1b');
  });

  it('delete with purge; afterwards config and status fail', async () => {
    const before = ((await node().storage.$('local-lvm').status.$get()) as { used: number }).used;
    const upid = (await vm(300).$delete({ purge: true, 'destroy-unreferenced-disks': true })) as string;
    expect(upid).toContain(':qmdestroy:300:');
    expect((await waitTask(px, upid)).exitstatus).toBe('OK');
    expect(await failure(vm(300).status.current.$get())).toContain("500 Configuration file 'nodes/pve1/qemu-server/300.conf' does not exist");
    const after = ((await node().storage.$('local-lvm').status.$get()) as { used: number }).used;
    expect(before - after).toBe(6 * 1024 ** 3 + 4 * 1024 * 1024);
  });

  it('refuses to delete a running or protected VM', async () => {
    await vm(204).config.$put({ protection: true });
    expect(await failure(vm(204).$delete())).toContain("500 can't remove VM 204 - protection mode enabled");
    await vm(204).config.$put({ delete: 'protection' });
    await waitTask(px, (await vm(204).status.start.$post()) as string);
    expect(await failure(vm(204).$delete())).toContain('500 VM 204 is running - destroy failed');
    await waitTask(px, (await vm(204).status.stop.$post()) as string);
    expect((await waitTask(px, (await vm(204).$delete()) as string)).exitstatus).toBe('OK');
  });
});

describe('tasks', () => {
  it('list, status fields and unknown upids', async () => {
    const list = (await node().tasks.$get({ limit: 3 })) as Record<string, unknown>[];
    expect(list).toHaveLength(3);
    expect(list[0]).toMatchObject({ node: 'pve1', user: 'ahl@pve', tokenid: 'ci', status: expect.any(String) });
    const upid = list[0]!.upid as string;
    const st = (await node().tasks.$(upid).status.$get()) as Record<string, unknown>;
    expect(st).toMatchObject({ upid, status: 'stopped', pid: expect.any(Number), starttime: expect.any(Number), user: 'ahl@pve', tokenid: 'ci' });
    expect(await failure(node().tasks.$('UPID:pve1:00000001:00000001:00000001:qmstart:1:root@pam:').status.$get())).toContain('"upid":"no such task"');
    expect(await failure(node().tasks.$('garbage').status.$get())).toContain('"upid":"unable to parse worker upid"');
  });

  it('a stopped running task ends with an error status', async () => {
    sim.core.opts.taskDurationMs = 5000;
    const upid = (await vm(100).status.start.$post()) as string;
    expect(((await node().tasks.$(upid).status.$get()) as { status: string }).status).toBe('running');
    expect(await node().tasks.$(upid).$delete()).toBeNull();
    sim.core.opts.taskDurationMs = 20;
    expect((await waitTask(px, upid)).exitstatus).toBe('received interrupt');
  });
});

describe('download-url and content delete', () => {
  it('query-url-metadata', async () => {
    expect(await node()['query-url-metadata'].$get({ url: `${filesUrl}/noble.img` })).toEqual({
      filename: 'noble.img',
      size: IMAGE.length,
      mimetype: 'application/octet-stream',
    });
  });

  it('downloads with a verified checksum; refuses to override; mismatch fails the task', async () => {
    const sha = createHash('sha256').update(IMAGE).digest('hex');
    const upid = (await node().storage.$('local')['download-url'].$post({
      url: `${filesUrl}/noble.img`,
      content: 'import' as 'iso',
      filename: 'noble-dl.qcow2',
      checksum: sha,
      'checksum-algorithm': 'sha256',
      'verify-certificates': false,
    })) as string;
    expect(upid).toContain(':download:noble-dl.qcow2:');
    expect((await waitTask(px, upid)).exitstatus).toBe('OK');
    const list = (await node().storage.$('local').content.$get({ content: 'import' })) as { volid: string; size: number }[];
    expect(list).toContainEqual(expect.objectContaining({ volid: 'local:import/noble-dl.qcow2', size: IMAGE.length, format: 'qcow2' }));
    const again = (await node().storage.$('local')['download-url'].$post({ url: `${filesUrl}/noble.img`, content: 'import' as 'iso', filename: 'noble-dl.qcow2' })) as string;
    expect((await waitTask(px, again)).exitstatus).toBe("refusing to override existing file '/var/lib/vz/import/noble-dl.qcow2'");
    const same = (await node().storage.$('local')['download-url'].$post({ url: `${filesUrl}/noble.img`, content: 'import' as 'iso', filename: 'noble-dl.qcow2', checksum: sha, 'checksum-algorithm': 'sha256' })) as string;
    expect((await waitTask(px, same)).exitstatus).toBe('OK');
    const bad = (await node().storage.$('local')['download-url'].$post({ url: `${filesUrl}/debian.iso`, content: 'iso', filename: 'd.iso', checksum: 'ab'.repeat(32), 'checksum-algorithm': 'sha256' })) as string;
    expect((await waitTask(px, bad)).exitstatus).toBe(`checksum mismatch: got '${sha}' != expect '${'ab'.repeat(32)}'`);
    expect(await failure(node().storage.$('local')['download-url'].$post({ url: `${filesUrl}/noble.img`, content: 'import' as 'iso', filename: 'noble.img' }))).toContain(
      '"filename":"invalid filename or wrong extension"',
    );
    expect(await failure(node().storage.$('local')['download-url'].$post({ url: `${filesUrl}/noble.img`, content: 'iso', filename: 'x.iso', checksum: 'ab' }))).toContain(
      `"checksum-algorithm":"missing property - 'checksum' requires this property"`,
    );
    expect(await failure(node().storage.$('local-lvm')['download-url'].$post({ url: `${filesUrl}/noble.img`, content: 'iso', filename: 'x.iso' }))).toContain(
      "can't upload to storage type 'lvmthin', not a file based storage!",
    );
  });

  it('deletes content with an imgdel task', async () => {
    const upid = (await node().storage.$('local').content.$('local:import/noble-dl.qcow2').$delete()) as string;
    expect(upid).toContain(':imgdel:local:');
    await waitTask(px, upid);
    expect(await failure(node().storage.$('local').content.$('local:import/noble-dl.qcow2').$get())).toContain("volume 'local:import/noble-dl.qcow2' does not exist");
    expect(await failure(node().storage.$('local').content.$('tank:base-201-disk-0').$get())).toContain('storage ID mismatch');
  });
});
