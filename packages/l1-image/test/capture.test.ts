import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLab, waitForTask } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { capture, readCaptures, restoreCapture } from '../src/index.js';
import { fixture, imageServer, simSeed } from './fixture.js';

const wait = { initialDelayMs: 5, maxDelayMs: 20 };

describe('appliance capture and restore', () => {
  it('captures a stopped appliance, refuses a running one, and restores the capture as a template', async () => {
    const images = await imageServer();
    const seed = simSeed();
    seed.guests = [{ vmid: 350, node: 'pve1', name: 'homeassistant-01', config: { memory: '4096', bios: 'ovmf', scsi0: 'local-lvm:vm-350-disk-0,size=32G', net0: 'virtio=02:AD:00:00:01:50,bridge=vmbr0' } }];
    const f = await fixture({ url: images.url, checksum: images.digest }, seed);
    try {
      mkdirSync(join(f.dir, 'images'), { recursive: true });
      writeFileSync(join(f.dir, 'images/haos.yaml'), 'kind: appliance\nos: {family: haos, release: "16"}\nsource: {capture: haos}\ntemplate: {node: pve1, storage: local-lvm, vmid: 9200, bios: ovmf}\n');
      writeFileSync(join(f.dir, 'personas/haos.yaml'), 'kind: appliance\ntemplate: haos@stable\nhosts:\n  homeassistant-01: {node: pve1, vmid: 350, mac: "02:AD:00:00:01:50"}\n');
      const { lab } = await loadLab(f.dir);
      const start = await f.client.request<string>('POST', '/nodes/pve1/qemu/350/status/start');
      await waitForTask(f.client, start, wait);
      expect(await capture(lab!, f.client, { host: 'homeassistant-01' }, { wait })).toEqual({
        ok: false,
        reason: 'VM 350 is running; stop it first for a consistent boot disk, or allow a snapshot-mode capture',
      });
      await waitForTask(f.client, await f.client.request<string>('POST', '/nodes/pve1/qemu/350/status/stop'), wait);

      const c = await capture(lab!, f.client, { host: 'homeassistant-01' }, { wait, now: () => new Date('2026-11-26T04:00:00Z') });
      expect(c.ok).toBe(true);
      if (!c.ok) return;
      expect(c.capture).toMatchObject({ image: 'haos', version: '20261126-040000', sourceVmid: 350, sourceName: 'homeassistant-01', node: 'pve1' });
      expect(c.capture.volid).toMatch(/^local:backup\/vzdump-qemu-350-.*\.vma\.zst$/);
      expect(c.capture.size).toBeGreaterThan(0);
      expect(await readCaptures(f.dir, 'haos')).toEqual([c.capture]);

      // A vzdump capture named by version needs no capture store: it is not even opened.
      const store = async (): Promise<never> => {
        throw new Error('the capture store was opened');
      };
      const r = await restoreCapture(lab!, f.client, 'haos', { wait, version: '20261126-040000', store, now: () => new Date('2026-11-26T05:00:00Z') });
      expect(r).toMatchObject({ ok: true, promoted: 'stable', manifest: { vmid: 9200, templateName: 'haos-20261126-050000', source: { capture: c.capture.volid } } });
      const cfg = await f.client.request<Record<string, string | number>>('GET', '/nodes/pve1/qemu/9200/config');
      expect(cfg).toMatchObject({ name: 'haos-20261126-050000', template: 1, bios: 'ovmf', memory: '4096' });
      expect(cfg.tags).toBe('ahl-template;image-haos');
    } finally {
      await f.close();
      await images.close();
    }
  });

  it('refuses to capture for a cloud image', async () => {
    const images = await imageServer();
    const f = await fixture({ url: images.url, checksum: images.digest });
    try {
      expect(await capture(f.lab, f.client, { vmid: 1, image: 'ubuntu-noble' })).toEqual({ ok: false, reason: 'ubuntu-noble is a cloud image; captures are for appliance images' });
    } finally {
      await f.close();
      await images.close();
    }
  });
});

describe('bootDisk', () => {
  it('takes the first disk of the boot order, else the first usual slot, never a cd-rom or a device path', async () => {
    const { bootDisk } = await import('../src/index.js');
    expect(bootDisk({ boot: 'order=ide2;virtio0;net0', ide2: 'local:iso/x.iso,media=cdrom', virtio0: 'local-lvm:vm-1-disk-0,size=8G' })).toEqual({ key: 'virtio0', volid: 'local-lvm:vm-1-disk-0' });
    expect(bootDisk({ scsi1: 'local-lvm:vm-1-disk-1', scsi0: 'tank:vm-1-disk-0,size=32G' })).toEqual({ key: 'scsi0', volid: 'tank:vm-1-disk-0' });
    expect(bootDisk({ scsi0: '/dev/disk/by-id/ata-X,size=1T' })).toBeUndefined();
    expect(bootDisk({ ide2: 'local:cloudinit,media=cdrom' })).toBeUndefined();
  });
});
