import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryReporter, readImageRecords } from '@ahl/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTemplate, listTemplates, promote, rollback } from '../src/index.js';
import { fixture, imageServer, simSeed } from './fixture.js';

const clockAt = (iso: string) => () => new Date(iso);
const wait = { initialDelayMs: 5, maxDelayMs: 20 };

describe('image build against pve-sim', () => {
  let images: Awaited<ReturnType<typeof imageServer>>;
  beforeAll(async () => {
    images = await imageServer();
  });
  afterAll(async () => {
    await images.close();
  });

  it('downloads with the upstream checksum, imports, templates, writes the manifest and makes the first build stable', async () => {
    const f = await fixture({ url: images.url, checksumUrl: images.sumsUrl });
    try {
      const reporter = new MemoryReporter();
      const r = await buildTemplate(f.lab, f.client, 'ubuntu-noble', { now: clockAt('2026-11-26T01:02:03Z'), wait, reporter });
      expect(r.outcome).toBe('built');
      if (r.outcome !== 'built') return;
      expect(r.promoted).toBe('stable');
      expect(r.manifest).toMatchObject({
        image: 'ubuntu-noble',
        version: '20261126-010203',
        vmid: 9000,
        node: 'pve1',
        storage: 'local-lvm',
        templateName: 'ubuntu-noble-20261126-010203',
        source: { url: images.url, digest: images.digest },
        createdAt: '2026-11-26T01:02:03.000Z',
      });
      const cfg = await f.client.request<Record<string, string | number>>('GET', '/nodes/pve1/qemu/9000/config');
      expect(cfg).toMatchObject({ name: 'ubuntu-noble-20261126-010203', template: 1, agent: '1', serial0: 'socket', vga: 'serial0', machine: 'q35', scsihw: 'virtio-scsi-pci' });
      expect(String(cfg.scsi0)).toMatch(/^local-lvm:base-9000-disk-0,/);
      expect(String(cfg.ide2)).toMatch(/^local-lvm:vm-9000-cloudinit,media=cdrom/);
      // No apt upgrade on every clone's first boot.
      expect(cfg.ciupgrade).toBe(0);
      expect(String(cfg.tags)).toBe('ahl-template;image-ubuntu-noble;ubuntu');
      const rec = await readImageRecords(f.dir, 'ubuntu-noble');
      expect(rec.channels.channels).toEqual({ stable: '20261126-010203' });
      expect(JSON.parse(readFileSync(join(f.dir, 'images/ubuntu-noble/artifacts/20261126-010203.json'), 'utf8')).vmid).toBe(9000);
      expect(reporter.events.filter((e) => e.status === 'ok').map((e) => e.step)).toEqual(['checksum', 'download', 'vmid', 'create', 'template', 'manifest']);
    } finally {
      await f.close();
    }
  });

  it('skips an identical rebuild, and --force builds a new version next to it', async () => {
    const f = await fixture({ url: images.url, checksum: images.digest });
    try {
      const first = await buildTemplate(f.lab, f.client, 'ubuntu-noble', { now: clockAt('2026-11-26T01:00:00Z'), wait });
      expect(first.outcome).toBe('built');
      const again = await buildTemplate(f.lab, f.client, 'ubuntu-noble', { now: clockAt('2026-11-26T02:00:00Z'), wait });
      expect(again).toMatchObject({ outcome: 'skipped', reason: 'ubuntu-noble-20261126-010000 (vmid 9000) was built from the same spec and source; use --force to rebuild' });
      const forced = await buildTemplate(f.lab, f.client, 'ubuntu-noble', { now: clockAt('2026-11-26T03:00:00Z'), wait, force: true });
      expect(forced).toMatchObject({ outcome: 'built', manifest: { vmid: 9001, version: '20261126-030000' } });
      expect(forced.outcome === 'built' && forced.promoted).toBeFalsy();
      const listing = await listTemplates(await f.reload(), f.client);
      expect(listing.images[0]).toMatchObject({
        image: 'ubuntu-noble',
        templates: [
          { version: '20261126-010000', vmid: 9000, present: true, channels: ['stable'] },
          { version: '20261126-030000', vmid: 9001, present: true, channels: [] },
        ],
        hosts: { stable: ['docker-01'] },
      });
    } finally {
      await f.close();
    }
  });

  it('promotes and rolls back channels, naming the hosts that now lag', async () => {
    const f = await fixture({ url: images.url, checksum: images.digest });
    try {
      await buildTemplate(f.lab, f.client, 'ubuntu-noble', { now: clockAt('2026-11-26T01:00:00Z'), wait });
      await buildTemplate(f.lab, f.client, 'ubuntu-noble', { now: clockAt('2026-11-27T01:00:00Z'), wait, force: true });
      expect(await promote(f.lab, 'ubuntu-noble', '20261127-010000', 'stable')).toMatchObject({ ok: true, from: '20261126-010000', to: '20261127-010000', lagging: ['docker-01'] });
      expect(await promote(f.lab, 'ubuntu-noble', '20990101-000000')).toMatchObject({ ok: false, reason: 'no template ubuntu-noble 20990101-000000 was built (built: 20261126-010000, 20261127-010000)' });
      expect(await rollback(f.lab, 'ubuntu-noble')).toMatchObject({ ok: true, from: '20261127-010000', to: '20261126-010000' });
      expect(await rollback(f.lab, 'ubuntu-noble')).toMatchObject({ ok: false, reason: 'ubuntu-noble@stable has no earlier version to roll back to' });
      expect(JSON.parse(readFileSync(join(f.dir, 'images/ubuntu-noble/channels.json'), 'utf8'))).toEqual({ channels: { stable: '20261126-010000' }, history: { stable: [] } });
    } finally {
      await f.close();
    }
  });

  it('fails on a checksum mismatch and leaves nothing behind', async () => {
    const f = await fixture({ url: images.url, checksum: `sha256:${'ab'.repeat(32)}` });
    try {
      const r = await buildTemplate(f.lab, f.client, 'ubuntu-noble', { wait });
      expect(r).toMatchObject({ outcome: 'failed', step: 'download' });
      if (r.outcome !== 'failed') return;
      expect(r.message).toMatch(/^task UPID:pve1:.* failed: .*checksum mismatch/);
      expect(r.taskLog?.join('\n')).toMatch(/checksum mismatch/);
      const content = await f.client.request<{ volid: string }[]>('GET', '/nodes/pve1/storage/local/content', { content: 'import' });
      expect(content).toEqual([]);
      expect((await f.client.request<unknown[]>('GET', '/cluster/resources', { type: 'vm' })).length).toBe(0);
      expect(readdirSync(f.dir)).not.toContain('artifacts');
    } finally {
      await f.close();
    }
  });

  it('cleans up the VM and the download when a task fails mid-build, and says which step', async () => {
    const f = await fixture({ url: images.url, checksum: images.digest });
    try {
      f.sim.faults.add({ kind: 'taskFailure', taskType: 'qmtemplate', message: 'injected: disk conversion failed' });
      const r = await buildTemplate(f.lab, f.client, 'ubuntu-noble', { wait });
      expect(r).toMatchObject({ outcome: 'failed', step: 'template' });
      if (r.outcome !== 'failed') return;
      expect(r.message).toContain('injected: disk conversion failed');
      expect(r.removed).toEqual(['VM 9000', `local:import/ubuntu-noble-${images.digest.slice(7, 23)}.qcow2`]);
      expect((await f.client.request<unknown[]>('GET', '/cluster/resources', { type: 'vm' })).length).toBe(0);
      expect(await f.client.request<unknown[]>('GET', '/nodes/pve1/storage/local/content', { content: 'import' })).toEqual([]);
      expect((await readImageRecords(f.dir, 'ubuntu-noble')).manifests).toEqual([]);
    } finally {
      await f.close();
    }
  });

  it('waits out a lock held by another operation, then succeeds', async () => {
    const f = await fixture({ url: images.url, checksum: images.digest });
    try {
      f.sim.faults.add({ kind: 'lock', vmid: 9000, durationMs: 1500 });
      const reporter = new MemoryReporter();
      const r = await buildTemplate(f.lab, f.client, 'ubuntu-noble', { wait, reporter });
      expect(r.outcome).toBe('built');
      expect(reporter.events.some((e) => e.detail?.startsWith('waiting for a lock'))).toBe(true);
    } finally {
      await f.close();
    }
  });

  it('fails the download step when the storage is full, removing nothing that was not made', async () => {
    const f = await fixture({ url: images.url, checksum: images.digest });
    try {
      f.sim.faults.add({ kind: 'storageFull', storage: 'local' });
      const r = await buildTemplate(f.lab, f.client, 'ubuntu-noble', { wait });
      expect(r).toMatchObject({ outcome: 'failed', step: 'download', removed: [] });
    } finally {
      await f.close();
    }
  });

  it('fails the create step for a token without VM.Allocate, naming the privilege', async () => {
    const seed = simSeed();
    seed.roles = { NoAllocate: ['Sys.Audit', 'Sys.Modify', 'Datastore.AllocateTemplate', 'Datastore.AllocateSpace', 'Datastore.Allocate', 'Datastore.Audit', 'VM.Audit', 'VM.Config.Disk'] };
    seed.acl = [{ path: '/', roles: ['NoAllocate'], users: ['ahl@pve'] }];
    const f = await fixture({ url: images.url, checksum: images.digest }, seed);
    try {
      const r = await buildTemplate(f.lab, f.client, 'ubuntu-noble', { wait });
      expect(r).toMatchObject({ outcome: 'failed', step: 'create' });
      if (r.outcome !== 'failed') return;
      expect(r.message).toBe('POST /nodes/pve1/qemu: 403 Permission check failed (/vms/9000, VM.Allocate)');
      expect(r.removed).toEqual([`local:import/ubuntu-noble-${images.digest.slice(7, 23)}.qcow2`]);
    } finally {
      await f.close();
    }
  });

  it('refuses a checksum file without the image', async () => {
    const f = await fixture({ url: images.url.replace('noble.img', 'missing.img'), checksumUrl: images.sumsUrl });
    try {
      expect(await buildTemplate(f.lab, f.client, 'ubuntu-noble', { wait })).toMatchObject({ outcome: 'failed', step: 'checksum', message: `${images.sumsUrl} has no checksum for missing.img`, removed: [] });
    } finally {
      await f.close();
    }
  });
});
