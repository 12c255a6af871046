import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connectLab, isAhlError, loadLab, MemoryReporter, waitForTask, Redactor, Secrets, type Lab } from '@ahl/core';
import { startSim, type RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import { recorded, secretSweep } from '../../../test-support/secret-sweep.js';
import { applyPlan as runApply, findTerraform, planHosts as runPlan, prepareWorkspace as prepare, providerMirror, type Workspace } from '../src/index.js';

// The tool tier for L2: real terraform (or tofu) with the real bpg/proxmox provider (built by
// scripts/bootstrap into the cache's filesystem mirror) against pve-sim.

const SECRET = '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c';

// What L2 returned, threw and reported, for the secret sweep after each suite (issue #22).
const outputs: string[] = [];
const reporter = new MemoryReporter();
const planHosts = recorded(outputs, runPlan);
const applyPlan = recorded(outputs, runApply);
const prepareWorkspace: typeof prepare = (lab, secrets, opts = {}) => prepare(lab, secrets, { reporter, ...opts });
const output = () => [...outputs, JSON.stringify(reporter)];
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR op@ahl';

function missingTools(): string[] {
  const missing: string[] = [];
  try {
    findTerraform();
  } catch {
    missing.push('terraform or tofu');
  }
  if (!providerMirror()) missing.push('the bpg/proxmox provider in the cache mirror (scripts/bootstrap builds it)');
  return missing;
}
const missing = missingTools();

/** Lab text that Terraform would evaluate if ahl wrote it unescaped (it reads this machine's files). */
const HOSTILE = '${file("/etc/hostname")} %{ if true }directive%{ endif } $${kept}';
const persona = (memory: number, extra = '') => `description: Docker hosts
template: noble@stable
resources: {cores: 4, memory: ${memory}, disk: 16}
dns: [10.0.0.1]
searchDomain: lab.example
tags: [docker]
hosts:
  docker-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}
  docker-02: {node: pve1, ip: 10.0.0.32/24, gateway: 10.0.0.1, vmid: 302, resources: {disk: 24}, description: '${HOSTILE}'}
  docker-03: {node: pve1, ip: 10.0.0.33/24, gateway: 10.0.0.1, vmid: 303, tags: [media]}
${extra}`;

function write(dir: string, files: Record<string, string>) {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

prerequisites(missing).describe('L2 with real terraform and bpg/proxmox against pve-sim', () => {
  let sim: RunningSim;
  let dir: string;
  const redactor = new Redactor();
  const secrets = () => new Secrets({ env: { ...process.env, T: SECRET }, baseDir: dir }, redactor);
  const env = process.env;

  async function lab(): Promise<Lab> {
    const r = await loadLab(dir);
    expect(r.errors).toEqual([]);
    return r.lab!;
  }
  async function workspace(): Promise<Workspace> {
    return prepareWorkspace(await lab(), secrets(), { env, redactor });
  }
  const config = (vmid: number) => sim.state.guests[String(vmid)]?.config as Record<string, unknown> | undefined;

  beforeAll(async () => {
    sim = await startSim({
      https: true,
      authFailureDelayMs: 0,
      statsLagMs: 0,
      taskDurationMs: 20,
      seed: {
        nodes: [{ name: 'pve1', bridges: [{ iface: 'vmbr0', cidr: '10.0.0.11/24' }] }],
        storages: [
          { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['import', 'iso', 'snippets'], size: 50 },
          { id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 200 },
        ],
        users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
        acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
        guests: [
          {
            vmid: 9000,
            name: 'noble-20261101-120000',
            template: true,
            config: {
              memory: '2048',
              cores: 2,
              scsihw: 'virtio-scsi-pci',
              scsi0: 'local-lvm:base-9000-disk-0,size=3G',
              ide2: 'local-lvm:vm-9000-cloudinit,media=cdrom',
              net0: 'virtio=BC:24:11:00:90:00,bridge=vmbr0',
              agent: '1',
              boot: 'order=scsi0',
              serial0: 'socket',
              vga: 'serial0',
            },
          },
          {
            vmid: 9200,
            name: 'haos-20261101-120000',
            template: true,
            config: {
              memory: '4096',
              cores: 2,
              bios: 'ovmf',
              machine: 'q35',
              scsihw: 'virtio-scsi-pci',
              efidisk0: 'local-lvm:base-9200-disk-1,efitype=4m,pre-enrolled-keys=0,size=4M',
              scsi0: 'local-lvm:base-9200-disk-0,size=32G',
              net0: 'virtio=BC:24:11:00:92:00,bridge=vmbr0',
              agent: '1',
              boot: 'order=scsi0',
            },
          },
        ],
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'ahl-l2-tool-'));
    const manifest = {
      image: 'noble',
      version: '20261101-120000',
      vmid: 9000,
      node: 'pve1',
      storage: 'local-lvm',
      templateName: 'noble-20261101-120000',
      source: { url: 'https://cloud-images.example/noble.img', digest: 'sha256:00' },
      specDigest: 'sha256:00',
      toolVersion: 'test',
      createdAt: '2026-11-01T12:00:00Z',
    };
    write(dir, {
      'lab.yaml': `name: l2-tool\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T", tls: {verify: false, fingerprint: "${sim.fingerprint}"}}\nnodes: {pve1: {}}\ndefaults: {storage: {vm: local-lvm, iso: local, import: local, snippets: local}}\ncloudInit: {user: lab, sshKeys: ["${KEY}"]}\n`,
      'images/noble.yaml': 'os: {family: ubuntu, release: noble}\nsource: {url: "https://cloud-images.example/noble.img", checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}\ntemplate: {vmid: 9000}\n',
      'images/noble/artifacts/20261101-120000.json': JSON.stringify(manifest),
      'images/noble/channels.json': JSON.stringify({ channels: { stable: '20261101-120000' }, history: {} }),
      'personas/docker.yaml': persona(4096),
      'images/haos.yaml': 'kind: appliance\nos: {family: haos, release: "16"}\nsource: {capture: haos}\ntemplate: {vmid: 9200, bios: ovmf, serialConsole: false}\n',
      'images/haos/artifacts/20261101-120000.json': JSON.stringify({ ...manifest, image: 'haos', vmid: 9200, templateName: 'haos-20261101-120000', source: { capture: 'haos-20261101' } }),
      'images/haos/channels.json': JSON.stringify({ channels: { stable: '20261101-120000' }, history: {} }),
      'personas/ha.yaml': 'kind: appliance\ntemplate: haos@stable\nresources: {cores: 2, memory: 4096, disk: 32}\nhosts:\n  ha-01: {node: pve1, ip: 10.0.0.50/24, vmid: 350, mac: "02:ad:00:00:01:50"}\n',
    });
  });

  afterAll(async () => {
    await sim?.stop();
    // Issue #22: the token is in nothing L2 returned or reported, and nowhere under .ahl/.
    if (dir) expect(secretSweep(join(dir, '.ahl'), { 'proxmox token': SECRET }, output())).toEqual([]);
  });

  it('plans three VMs to create, applies that plan, and the sim holds them as intended', async () => {
    const ws = await workspace();
    expect(readFileSync(join(ws.dir, 'main.tf.json'), 'utf8')).not.toContain(SECRET);
    const plan = await planHosts(ws, { hosts: ['docker-01', 'docker-02', 'docker-03'] });
    expect(plan.summary.hosts.map((h) => [h.host, h.action])).toEqual([
      ['docker-01', 'create'],
      ['docker-02', 'create'],
      ['docker-03', 'create'],
    ]);
    const applied = await applyPlan(ws, plan);
    expect(applied.hosts.map((h) => [h.host, h.state])).toEqual([
      ['docker-01', 'done'],
      ['docker-02', 'done'],
      ['docker-03', 'done'],
    ]);
    const c = config(302)!;
    expect(c).toMatchObject({ name: 'docker-02', cores: '4', memory: '4096', ciuser: 'lab', nameserver: '10.0.0.1', searchdomain: 'lab.example', onboot: '1' });
    expect(String(c.ipconfig0).split(',').sort()).toEqual(['gw=10.0.0.1', 'ip=10.0.0.32/24']);
    expect(String(c.scsi0)).toMatch(/^local-lvm:vm-302-disk-\d+.*size=24G/);
    expect(decodeURIComponent(String(c.sshkeys))).toContain(KEY);
    // Real Terraform took the description as text: nothing was read, no directive ran.
    expect(String(c.description)).toBe(`${HOSTILE} (managed by ahl: persona docker)`);
    expect(String(config(303)!.tags).split(/[;,]/).sort()).toEqual(['ahl', 'docker', 'media', 'tpl-noble-20261101-120000']);
    // The clone keeps its template's machine: the serial console, the controller.
    expect(c).toMatchObject({ serial0: 'socket', scsihw: 'virtio-scsi-pci', ostype: 'l26' });
    expect(String(c.vga)).toContain('type=serial0');
  });

  it('clones an appliance without cloud-init, with its fixed MAC and its UEFI disk', async () => {
    const ws = await workspace();
    const plan = await planHosts(ws, { hosts: ['ha-01'] });
    expect(plan.summary.hosts.map((h) => [h.host, h.action])).toEqual([['ha-01', 'create']]);
    await applyPlan(ws, plan);
    const c = config(350)!;
    expect(String(c.net0)).toMatch(/^virtio=02:AD:00:00:01:50,bridge=vmbr0/);
    expect(c).toMatchObject({ bios: 'ovmf', name: 'ha-01' });
    expect(String(c.efidisk0)).toMatch(/^local-lvm:vm-350-disk-\d+/);
    for (const k of ['ciuser', 'ipconfig0', 'sshkeys']) expect(c[k]).toBeUndefined();
    expect(Object.values(c).some((v) => String(v).includes('cloudinit'))).toBe(false);
    expect((await planHosts(await workspace(), { hosts: ['ha-01'] })).summary.changes).toBe(false);
  });

  it('plans no changes the second time', async () => {
    const plan = await planHosts(await workspace());
    expect(plan.targeted).toBe(false);
    expect(plan.summary.changes).toBe(false);
    expect(plan.summary.counts['no-op']).toBe(4);
  });

  it('a change of memory in the persona is an in-place update of that attribute', async () => {
    write(dir, { 'personas/docker.yaml': persona(6144) });
    const ws = await workspace();
    const plan = await planHosts(ws, { hosts: ['docker-01'] });
    expect(plan.targeted).toBe(true);
    expect(plan.summary.hosts).toEqual([
      expect.objectContaining({ host: 'docker-01', action: 'update', changes: [{ path: 'memory.0.dedicated', before: 4096, after: 6144 }], drift: [] }),
    ]);
    await applyPlan(ws, plan);
    expect(config(301)!.memory).toBe('6144');
  });

  it('extra disks and NICs are made on the VM; a larger disk grows in place, a smaller one is refused before anything changes', async () => {
    const withDisk = (size: number) =>
      persona(6144).replace(
        'docker-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}',
        `docker-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301, disks: [{slot: scsi1, size: ${size}, backup: false, mount: {path: /srv/data}}], nics: [{bridge: vmbr0, vlan: 20, mac: "BC:24:11:00:20:31", ip: 10.0.20.31/24}]}`,
      );
    const options = (v: unknown) => String(v).split(',');
    write(dir, { 'personas/docker.yaml': withDisk(2) });
    let ws = await workspace();
    let plan = await planHosts(ws, { hosts: ['docker-01'] });
    expect(plan.summary.hosts).toEqual([expect.objectContaining({ host: 'docker-01', action: 'update', resizes: [] })]);
    await applyPlan(ws, plan);
    let c = config(301)!;
    expect(options(c.scsi1)[0]).toMatch(/^local-lvm:vm-301-disk-\d+$/);
    expect(options(c.scsi1)).toEqual(expect.arrayContaining(['backup=0', 'serial=ahl-scsi1', 'size=2G']));
    expect(options(c.net1)).toEqual(expect.arrayContaining(['virtio=BC:24:11:00:20:31', 'bridge=vmbr0', 'tag=20']));
    // A running VM takes a cloud-init option at its next start, as Proxmox does: it is pending until then.
    expect(sim.state.guests['301']!.pending?.ipconfig1).toBe('ip=10.0.20.31/24');
    expect((await planHosts(await workspace(), { hosts: ['docker-01'] })).summary.changes).toBe(false);

    write(dir, { 'personas/docker.yaml': withDisk(4) });
    ws = await workspace();
    plan = await planHosts(ws, { hosts: ['docker-01'] });
    expect(plan.summary.hosts).toEqual([expect.objectContaining({ action: 'update', resizes: [{ slot: 'scsi1', from: 2, to: 4 }] })]);
    const disk = options(c.scsi1)[0];
    await applyPlan(ws, plan);
    c = config(301)!;
    // The same volume, larger: grown in place, not replaced.
    expect(options(c.scsi1)[0]).toBe(disk);
    expect(options(c.scsi1)).toContain('size=4G');

    write(dir, { 'personas/docker.yaml': withDisk(3) });
    ws = await workspace();
    plan = await planHosts(ws, { hosts: ['docker-01'] });
    expect(plan.summary.hosts[0]!.resizes).toEqual([{ slot: 'scsi1', from: 4, to: 3 }]);
    const err = await applyPlan(ws, plan).catch((e: unknown) => e);
    expect(isAhlError(err) && err.code).toBe('DISK_SHRINK');
    expect(options(config(301)!.scsi1)).toContain('size=4G');
    write(dir, { 'personas/docker.yaml': withDisk(4) });
  });

  it('a VM changed behind Terraform\'s back is reported as drift', async () => {
    const client = await connectLab((await lab()).config, secrets(), dir);
    await client.request('PUT', '/nodes/pve1/qemu/302/config', { cores: 8 });
    await client.close();
    const plan = await planHosts(await workspace(), { hosts: ['docker-02'] });
    const h = plan.summary.hosts[0]!;
    expect(h.drift).toContainEqual({ path: 'cpu.0.cores', before: 4, after: 8 });
    expect(h.changes).toContainEqual({ path: 'cpu.0.cores', before: 8, after: 4 });
  });

  it('destroys one host, targeted, and leaves the others', async () => {
    const ws = await workspace();
    const plan = await planHosts(ws, { hosts: ['docker-03'], destroy: true });
    expect(plan.summary.hosts.map((h) => [h.host, h.action])).toEqual([['docker-03', 'delete']]);
    await applyPlan(ws, plan);
    expect(config(303)).toBeUndefined();
    expect(config(301)).toBeDefined();
  });

  it('a clone that fails leaves Terraform\'s error readable, the token masked, and no orphan VM', async () => {
    write(dir, { 'personas/docker.yaml': persona(6144, '  docker-04: {node: pve1, ip: 10.0.0.34/24, gateway: 10.0.0.1, vmid: 304}\n') });
    // Every attempt fails (the provider makes three).
    sim.faults.add({ kind: 'taskFailure', taskType: 'qmclone', message: 'clone failed: storage is full', times: 3 });
    const ws = await workspace();
    const plan = await planHosts(ws, { hosts: ['docker-04'] });
    expect(plan.summary.hosts.map((h) => [h.host, h.action])).toEqual([['docker-04', 'create']]);
    const err = await applyPlan(ws, plan).catch((e: unknown) => e);
    expect(isAhlError(err) && err.code).toBe('TERRAFORM_FAILED');
    const text = JSON.stringify(isAhlError(err) ? err.toJSON() : err);
    expect(text).toContain('clone failed: storage is full');
    expect(text).not.toContain(SECRET);
    expect(config(304)).toBeUndefined();
  });

  it('adopts a VM that exists but is not in the state, instead of cloning a second one', async () => {
    const client = await connectLab((await lab()).config, secrets(), dir);
    try {
      const upid = await client.request<string>('POST', '/nodes/pve1/qemu/9000/clone', { newid: 305, name: 'docker-05', full: 1 });
      expect((await waitForTask(client, upid)).ok).toBe(true);
      // Made at the intended size (by the tool it replaces): the bpg provider does not grow the disk of an imported VM.
      await waitForTask(client, await client.request<string>('PUT', '/nodes/pve1/qemu/305/resize', { disk: 'scsi0', size: '16G' }));
    } finally {
      await client.close();
    }
    write(dir, { 'personas/docker.yaml': persona(6144, '  docker-05: {node: pve1, ip: 10.0.0.35/24, gateway: 10.0.0.1, vmid: 305}\n') });
    const ws = await prepareWorkspace(await lab(), secrets(), { env, redactor, existing: [{ host: 'docker-05', node: 'pve1', vmid: 305 }] });
    const plan = await planHosts(ws, { hosts: ['docker-05'] });
    expect(plan.summary.hosts).toEqual([expect.objectContaining({ host: 'docker-05', action: 'update', adopt: 'pve1/305' })]);
    await applyPlan(ws, plan);
    expect(config(305)).toMatchObject({ memory: '6144', ciuser: 'lab' });
    const again = await planHosts(await prepareWorkspace(await lab(), secrets(), { env, redactor, existing: [{ host: 'docker-05', node: 'pve1', vmid: 305 }] }), { hosts: ['docker-05'] });
    expect(again.summary.hosts).toEqual([expect.objectContaining({ action: 'no-op', changes: [] })]);
  });
});

const MOTO = join(process.env.AHL_CACHE_DIR ?? join(homedir(), '.cache/ahl'), 'venv/bin/moto_server');
const s3Missing = [...missing, ...(existsSync(MOTO) ? [] : [`${MOTO} (bash scripts/bootstrap installs it)`])];

prerequisites(s3Missing).describe('L2 state in an S3-compatible bucket (moto)', () => {
  const S3_KEY = 'AKIAAHLSTATEKEY00001';
  const S3_SECRET = 'ahl-state-secret-do-not-print-1a2b3c';
  let moto: ChildProcess;
  let s3: string;
  let sim: RunningSim;
  let dir: string;
  const redactor = new Redactor();

  beforeAll(async () => {
    const port = await new Promise<number>((res) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => res(p));
      });
    });
    s3 = `http://127.0.0.1:${port}`;
    moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    for (let i = 0; !(await fetch(s3).then(() => true, () => false)); i++) {
      if (i > 300) throw new Error('moto_server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await fetch(`${s3}/ahl-state`, { method: 'PUT' })).status).toBe(200);
    sim = await startSim({
      https: true,
      authFailureDelayMs: 0,
      statsLagMs: 0,
      taskDurationMs: 20,
      seed: {
        nodes: [{ name: 'pve1', bridges: [{ iface: 'vmbr0' }] }],
        storages: [{ id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 100 }],
        users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
        acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
        guests: [{ vmid: 9000, name: 'noble-20261101-120000', template: true, config: { memory: '1024', scsi0: 'local-lvm:base-9000-disk-0,size=2G', net0: 'virtio=BC:24:11:00:90:00,bridge=vmbr0', boot: 'order=scsi0' } }],
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'ahl-l2-s3-'));
    const manifest = { image: 'noble', version: '20261101-120000', vmid: 9000, node: 'pve1', storage: 'local-lvm', templateName: 'noble-20261101-120000', source: {}, specDigest: 'x', toolVersion: 't', createdAt: '2026-11-01T12:00:00Z' };
    write(dir, {
      'lab.yaml': `name: l2-s3\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T", tls: {verify: false, fingerprint: "${sim.fingerprint}"}}\nnodes: {pve1: {}}\ndefaults: {storage: {vm: local-lvm, iso: local-lvm, import: local-lvm, snippets: local-lvm}}\ncloudInit: {sshKeys: ["${KEY}"]}\nstate: {backend: s3, bucket: ahl-state, prefix: labs/l2-s3, endpoint: "${s3}", pathStyle: true, accessKeyId: env:S3_KEY, secretAccessKey: env:S3_SECRET}\n`,
      'images/noble.yaml': 'os: {family: ubuntu, release: noble}\nsource: {url: "https://cloud-images.example/noble.img", checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}\ntemplate: {vmid: 9000}\n',
      'images/noble/artifacts/20261101-120000.json': JSON.stringify(manifest),
      'images/noble/channels.json': JSON.stringify({ channels: { stable: '20261101-120000' } }),
      'personas/web.yaml': 'template: noble@stable\nresources: {disk: 4}\nhosts:\n  web-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n',
    });
  });

  afterAll(async () => {
    moto?.kill();
    await sim?.stop();
    // Issue #22: neither the token nor the state credentials are in what L2 returned or reported, nor under .ahl/.
    if (dir) expect(secretSweep(join(dir, '.ahl'), { 'proxmox token': SECRET, 'S3 access key id': S3_KEY, 'S3 secret key': S3_SECRET }, output())).toEqual([]);
  });

  it('keeps the state in the bucket, locked while in use, with the credentials only in the environment', async () => {
    const r = await loadLab(dir);
    expect(r.errors).toEqual([]);
    const secrets = new Secrets({ env: { ...process.env, T: SECRET, S3_KEY, S3_SECRET }, baseDir: dir }, redactor);
    const ws = await prepareWorkspace(r.lab!, secrets, { redactor });
    const text = readFileSync(join(ws.dir, 'main.tf.json'), 'utf8');
    expect(JSON.parse(text).terraform.backend.s3).toMatchObject({ bucket: 'ahl-state', key: 'labs/l2-s3/terraform.tfstate', use_lockfile: true, use_path_style: true });
    expect(text).not.toContain(S3_SECRET);
    await applyPlan(ws, await planHosts(ws));
    const listing = await (await fetch(`${s3}/ahl-state?list-type=2`)).text();
    expect(listing).toContain('<Key>labs/l2-s3/terraform.tfstate</Key>');
    // Terraform reads it back from there (the object is private: not readable without the keys).
    expect((await fetch(`${s3}/ahl-state/labs/l2-s3/terraform.tfstate`)).status).toBe(403);
    const listed = spawnSync(ws.bin, ['state', 'list'], { cwd: ws.dir, env: ws.env, encoding: 'utf8' });
    expect(listed.stdout.trim()).toBe('proxmox_virtual_environment_vm.web-01');
    // The lock object exists only while Terraform holds the state.
    expect(listing).not.toContain('.tflock');
    expect(existsSync(join(dir, '.ahl', 'state', 'terraform.tfstate'))).toBe(false);
    expect((await planHosts(await prepareWorkspace(r.lab!, secrets, { redactor }))).summary.changes).toBe(false);
  });
});
