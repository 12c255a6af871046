import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLab, Secrets } from '@ahl/core';
import { openCaptureStore } from '@ahl/l1-image';
import { startSim, type RunningSim } from '@ahl/pve-sim';
import { QcowVolumes } from '@ahl/testlab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import { ahl, writeTree } from './helpers.js';

/*
 * The capture store for real: moto's S3 server (PyPI, installed by scripts/bootstrap), pve-sim whose
 * volumes are qcow2 files (so the bytes are real), the node's shell on this machine (`ssh: local`)
 * running the real qemu-img, and the node downloading the image back by a presigned URL.
 */

const SECRET = '3e6a1c9b-5d7f-4a2e-8c0b-9f1d3b5a7c2e';
const S3_KEY = 'AKIAAHLTESTKEY000001';
const S3_SECRET = 'ahl-s3-secret-do-not-print-9d8c7b6a';
const BUCKET = 'ahl-captures';
const MOTO = join(process.env.AHL_CACHE_DIR ?? join(homedir(), '.cache/ahl'), 'venv/bin/moto_server');
const missing = [!existsSync(MOTO) && `${MOTO} (bash scripts/bootstrap installs it)`, spawnSync('sh', ['-c', 'command -v qemu-img']).status !== 0 && 'qemu-img (apt package qemu-utils; bash scripts/bootstrap installs it)'];

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** sha256 of a disk's content, whatever its format: the raw bytes qemu-img reads from it. */
function contentDigest(file: string, dir: string): string {
  const raw = join(dir, `content-${randomBytes(4).toString('hex')}.raw`);
  const r = spawnSync('qemu-img', ['convert', '-U', '-O', 'raw', file, raw], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const digest = createHash('sha256').update(readFileSync(raw)).digest('hex');
  rmSync(raw);
  return digest;
}

prerequisites(missing).describe('capture store: moto S3, qemu-img, pve-sim with qcow2 volumes', () => {
  let moto: ChildProcess;
  let s3: string;
  let sim: RunningSim;
  let volumes: QcowVolumes;
  let dir: string;
  let work: string;
  const env = { T: SECRET, S3_KEY, S3_SECRET, PATH: process.env.PATH };
  const api = async <T>(method: string, path: string, body?: Record<string, string | number>): Promise<T> => {
    const res = await fetch(`${sim.url}/api2/json${path}`, {
      method,
      headers: { Authorization: `PVEAPIToken=ahl@pve!ahl=${SECRET}`, ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body ? { body: new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, String(v)])).toString() } : {}),
    });
    const json = (await res.json()) as { data: T };
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json.data;
  };
  const waitTask = async (upid: string) => {
    for (let i = 0; i < 500; i++) {
      const st = await api<{ status: string; exitstatus?: string }>('GET', `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`);
      if (st.status === 'stopped') return st.exitstatus;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`task ${upid} did not finish`);
  };
  const outputs: string[] = [];
  const run = async (argv: string[]) => {
    const r = await ahl([...argv, '--dir', dir], { env });
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ahl-capture-store-'));
    const port = await freePort();
    s3 = `http://127.0.0.1:${port}`;
    moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      const up = await fetch(s3).then(() => true, () => false);
      if (up) break;
      if (i > 300) throw new Error('moto_server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await fetch(`${s3}/${BUCKET}`, { method: 'PUT' })).status).toBe(200);

    volumes = new QcowVolumes(join(work, 'node'));
    sim = await startSim({
      https: false,
      authFailureDelayMs: 0,
      statsLagMs: 0,
      taskDurationMs: 10,
      backend: volumes,
      seed: {
        nodes: [{ name: 'pve1', bridges: [{ iface: 'vmbr0' }] }],
        storages: [
          { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'import', 'backup'], size: 100 },
          { id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 200 },
        ],
        users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
        acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
        guests: [{ vmid: 350, name: 'homeassistant-01', config: { memory: 2048, bios: 'ovmf', scsi0: 'local-lvm:vm-350-disk-0,size=64M', boot: 'order=scsi0', net0: 'virtio=02:AD:00:00:01:50,bridge=vmbr0', tags: 'ahl' } }],
      },
    });
    // The appliance's boot disk: 64 MiB of which the first 3 MiB are data, as a qcow2 file.
    const raw = join(work, 'disk.raw');
    writeFileSync(raw, Buffer.concat([randomBytes(3 * 1024 * 1024), Buffer.alloc(61 * 1024 * 1024)]));
    const disk = volumes.pathOf('local-lvm:vm-350-disk-0');
    rmSync(disk, { force: true });
    spawnSync('mkdir', ['-p', join(disk, '..')]);
    expect(spawnSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, disk]).status).toBe(0);

    dir = writeTree(mkdtempSync(join(tmpdir(), 'ahl-cli-capture-')), {
      'lab.yaml': [
        'name: cap',
        `proxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T"}`,
        'nodes: {pve1: {ssh: local}}',
        'defaults: {storage: {vm: local-lvm, iso: local, import: local, backup: local}}',
        'cloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}',
        `captureStore: {bucket: ${BUCKET}, prefix: captures, endpoint: "${s3}", pathStyle: true, accessKeyId: env:S3_KEY, secretAccessKey: env:S3_SECRET}`,
        '',
      ].join('\n'),
      'images/haos.yaml': 'kind: appliance\nos: {family: haos, release: "16"}\nsource: {capture: haos}\ntemplate: {node: pve1, storage: local-lvm, vmid: 9200, bios: ovmf, memory: 2048, serialConsole: false}\n',
      'personas/haos.yaml': 'kind: appliance\ntemplate: haos@stable\nhosts:\n  homeassistant-01: {node: pve1, vmid: 350, mac: "02:AD:00:00:01:50"}\n',
    });
  });

  afterAll(async () => {
    await sim?.stop();
    moto?.kill();
    for (const d of [dir, work]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('refuses a running VM; --stop shuts it down for the capture and starts it again', async () => {
    await waitTask(await api<string>('POST', '/nodes/pve1/qemu/350/status/start'));
    const refused = await run(['image', 'capture', 'homeassistant-01']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('VM 350 is running; stop it first for a consistent boot disk, or let ahl shut it down and start it again (--stop)');
    const r = await run(['image', 'capture', 'homeassistant-01', '--stop', '--json']);
    expect(r.code).toBe(0);
    const cap = JSON.parse(r.stdout).capture;
    expect(cap).toMatchObject({ image: 'haos', where: 'store', sourceVmid: 350, node: 'pve1', disk: 'scsi0', format: 'qcow2', virtualSize: 64 * 1024 * 1024 });
    expect(cap.url).toBe(`s3://${BUCKET}/captures/haos/${cap.version}.qcow2`);
    expect((await api<{ status: string }>('GET', '/nodes/pve1/qemu/350/status/current')).status).toBe('running');
    // The object in S3 is the image the manifest describes: same size, same digest.
    const { lab } = await loadLab(dir);
    const store = await openCaptureStore(lab!.config, new Secrets({ env, baseDir: dir }));
    try {
      const res = await fetch(await store.presign(cap.key, 60));
      expect(res.status).toBe(200);
      const object = Buffer.from(await res.arrayBuffer());
      expect(object.length).toBe(cap.size);
      expect(`sha256:${createHash('sha256').update(object).digest('hex')}`).toBe(cap.digest);
      expect(await store.getJson(`${cap.key}.json`)).toEqual(cap);
    } finally {
      store.close();
    }
    expect(JSON.parse(readFileSync(join(dir, 'images/haos/captures', `${cap.version}.json`), 'utf8'))).toEqual(cap);
    expect(readdirSync('/var/tmp').filter((f) => f.startsWith('ahl-capture.'))).toEqual([]);
  });

  it('restores from the store alone, deleted template and all, and a clone holds the captured disk', async () => {
    const source = contentDigest(volumes.pathOf('local-lvm:vm-350-disk-0'), work);
    const first = await run(['image', 'restore-capture', 'haos']);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/✓ template haos-\d{8}-\d{6} \(vmid 9200\) from s3:\/\/ahl-captures\/captures\/haos\/\d{8}-\d{6}\.qcow2, now haos@stable/);
    // Forget everything but the store: the template, its manifest and channel, the capture record.
    expect(await waitTask(await api<string>('DELETE', '/nodes/pve1/qemu/9200?purge=1'))).toBe('OK');
    rmSync(join(dir, 'images/haos'), { recursive: true });
    const again = await run(['image', 'restore-capture', 'haos', '--json']);
    expect(again.code).toBe(0);
    const manifest = JSON.parse(again.stdout).manifest;
    expect(manifest).toMatchObject({ image: 'haos', vmid: 9200, source: { capture: expect.stringMatching(/^s3:\/\//), digest: expect.stringMatching(/^sha256:/) } });
    const cfg = await api<Record<string, string | number>>('GET', '/nodes/pve1/qemu/9200/config');
    expect(cfg).toMatchObject({ template: 1, bios: 'ovmf' });
    expect(cfg.ide2).toBeUndefined();
    // Clone the template and compare what its disk holds with the appliance's.
    expect(await waitTask(await api<string>('POST', '/nodes/pve1/qemu/9200/clone', { newid: 351, name: 'ha-restored', full: 1 }))).toBe('OK');
    const clone = String((await api<Record<string, string>>('GET', '/nodes/pve1/qemu/351/config')).scsi0).split(',')[0]!;
    expect(contentDigest(volumes.pathOf(clone), work)).toBe(source);
  });

  it('never prints the S3 secret or a presigned URL\'s signature', () => {
    const all = outputs.join('\n');
    expect(all).not.toContain(S3_SECRET);
    expect(all).not.toMatch(/X-Amz-Signature=[0-9a-f]{16}/);
  });
});
