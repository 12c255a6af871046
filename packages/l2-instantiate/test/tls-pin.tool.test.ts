import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { FingerprintMismatchError, isAhlError, loadLab, Redactor, Secrets, type AhlError } from '@ahl/core';
import { startSim, type RunningSim, type SeedConfig } from '@ahl/pve-sim';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import { applyPlan, findTerraform, planHosts, prepareWorkspace, providerMirror, type Workspace } from '../src/index.js';

// The tool tier for issue #22's "TLS pin honoured by Terraform": real terraform (or tofu) with the
// real bpg/proxmox provider against pve-sim, a lab pinned to one sim's certificate, and a second sim
// with another certificate that a TCP forwarder in front of both can swap in at any connection.

const SECRET = '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c';
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

const seed: SeedConfig = {
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
      config: { memory: '2048', cores: 2, scsihw: 'virtio-scsi-pci', scsi0: 'local-lvm:base-9000-disk-0,size=3G', ide2: 'local-lvm:vm-9000-cloudinit,media=cdrom', net0: 'virtio=BC:24:11:00:90:00,bridge=vmbr0', agent: '1', boot: 'order=scsi0' },
    },
  ],
};

/** A TCP forwarder: each new connection goes to `route.next` (taken in order), then to `route.rest`. */
async function forwarder(route: { next: number[]; rest: number }) {
  const open = new Set<Socket>();
  const server: Server = createServer((c) => {
    const s = connect(route.next.shift() ?? route.rest, '127.0.0.1');
    for (const x of [c, s]) {
      open.add(x);
      x.once('close', () => open.delete(x));
      x.on('error', () => (x === c ? s : c).destroy());
    }
    c.pipe(s).pipe(c);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const x of open) x.destroy();
    }),
  };
}

prerequisites(missingTools()).describe('L2 with a pinned certificate: real terraform and bpg/proxmox reach only the pinned server', () => {
  let pinned: RunningSim;
  let other: RunningSim;
  let front: Awaited<ReturnType<typeof forwarder>>;
  const route = { next: [] as number[], rest: 0 };
  let dir: string;
  const redactor = new Redactor();

  async function workspace(): Promise<Workspace> {
    const r = await loadLab(dir);
    expect(r.errors).toEqual([]);
    return prepareWorkspace(r.lab!, new Secrets({ env: { ...process.env, T: SECRET }, baseDir: dir }, redactor), { redactor });
  }
  const vm = (sim: RunningSim) => sim.state.guests['301'];
  async function refusal(p: Promise<unknown>): Promise<AhlError> {
    const e = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(isAhlError(e), String(e)).toBe(true);
    return e as AhlError;
  }

  beforeAll(async () => {
    const start = () => startSim({ https: true, authFailureDelayMs: 0, statsLagMs: 0, taskDurationMs: 20, seed });
    [pinned, other] = await Promise.all([start(), start()]);
    expect(pinned.fingerprint).not.toBe(other.fingerprint);
    route.rest = pinned.port;
    front = await forwarder(route);
    dir = mkdtempSync(join(tmpdir(), 'ahl-l2-pin-'));
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
    const files: Record<string, string> = {
      // verify: false as a lab with a self-signed certificate would say; the pin decides.
      'lab.yaml': `name: l2-pin\nproxmox: {endpoint: "https://127.0.0.1:${front.port}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T", tls: {verify: false, fingerprint: "${pinned.fingerprint}"}}\nnodes: {pve1: {}}\ndefaults: {storage: {vm: local-lvm, iso: local, import: local, snippets: local}}\ncloudInit: {user: lab, sshKeys: ["${KEY}"]}\n`,
      'images/noble.yaml': 'os: {family: ubuntu, release: noble}\nsource: {url: "https://cloud-images.example/noble.img", checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}\ntemplate: {vmid: 9000}\n',
      'images/noble/artifacts/20261101-120000.json': JSON.stringify(manifest),
      'images/noble/channels.json': JSON.stringify({ channels: { stable: '20261101-120000' }, history: {} }),
      'personas/docker.yaml': 'template: noble@stable\nresources: {cores: 2, memory: 2048, disk: 8}\nhosts:\n  docker-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n',
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
  });

  afterAll(async () => {
    await front?.close();
    await Promise.all([pinned?.stop(), other?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('another certificate at the endpoint: ahl starts neither terraform plan nor terraform apply, and nothing is changed', async () => {
    route.rest = other.port;
    const first = await refusal(planHosts(await workspace()));
    expect(first.code).toBe('TLS_PIN_MISMATCH');
    expect(first.message).toMatch(/^the server at https:\/\/127\.0\.0\.1:\d+ presented certificate [0-9A-F:]{95}, not the pinned [0-9A-F:]{95}; ahl did not start terraform plan$/);
    expect(first.labChanged).toBe(false);
    expect(first.cause).toBeInstanceOf(FingerprintMismatchError);
    expect(first.cause).toMatchObject({ expected: pinned.fingerprint, actual: other.fingerprint });
    // Planned against the pinned server, applied when another one answers.
    route.rest = pinned.port;
    const ws = await workspace();
    const plan = await planHosts(ws);
    expect(plan.summary.hosts.map((h) => [h.host, h.action])).toEqual([['docker-01', 'create']]);
    route.rest = other.port;
    const e = await refusal(applyPlan(ws, plan));
    expect(e.message).toMatch(/; ahl did not start terraform apply$/);
    expect(e.labChanged).toBe(false);
    expect(e.cause).toMatchObject({ expected: pinned.fingerprint, actual: other.fingerprint });
    expect(vm(pinned)).toBeUndefined();
    expect(vm(other)).toBeUndefined();
  });

  it('the pinned server: Terraform verifies the relay (insecure: false) and the apply makes the VM', async () => {
    route.rest = pinned.port;
    const ws = await workspace();
    expect(JSON.parse(readFileSync(join(ws.dir, 'main.tf.json'), 'utf8')).provider).toEqual({ proxmox: { insecure: false } });
    // The workspace's environment names the real endpoint; each run gets the relay's for its life.
    expect(ws.env.PROXMOX_VE_ENDPOINT).toBe(`https://127.0.0.1:${front.port}/`);
    const plan = await planHosts(ws);
    const applied = await applyPlan(ws, plan);
    expect(applied.hosts.map((h) => [h.host, h.state])).toEqual([['docker-01', 'done']]);
    expect(vm(pinned)?.config).toMatchObject({ name: 'docker-01', memory: '2048' });
    expect(vm(other)).toBeUndefined();
  });

  it('a server swapped after ahl\'s check: the relay refuses Terraform\'s own connections', async () => {
    // ahl's check reaches the pinned server; every connection after it, the other. The plan refreshes
    // the VM the last test made, so the provider must connect.
    route.next = [pinned.port];
    route.rest = other.port;
    const before = structuredClone(vm(pinned)?.config);
    const e = await refusal(planHosts(await workspace()));
    expect(route.next).toEqual([]);
    expect(e.code).toBe('TLS_PIN_MISMATCH');
    expect(e.message).toMatch(/^the server at .* presented certificate .*; ahl's TLS relay refused terraform plan a connection$/);
    expect(e.cause).toMatchObject({ expected: pinned.fingerprint, actual: other.fingerprint });
    expect(e.labChanged).toBe(false);
    expect(vm(pinned)?.config).toEqual(before);
    expect(vm(other)).toBeUndefined();
    route.rest = pinned.port;
    expect((await planHosts(await workspace())).summary.changes).toBe(false);
  });
});
