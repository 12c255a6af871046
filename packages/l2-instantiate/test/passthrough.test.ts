import type { PassthroughDisk } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { parseDrive, passthroughValue, planPassthrough, qmSetLine } from '../src/index.js';

const WD1 = '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA1';
const WD2 = '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA2';
const disk = (slot: string, device: string, options: Partial<PassthroughDisk['options']> = {}): PassthroughDisk => ({ slot, device, options: { backup: false, ...options } });

describe('passthrough values', () => {
  it('writes the device, then the options as Proxmox stores them, alphabetically', () => {
    expect(passthroughValue(disk('scsi1', WD1))).toBe(`${WD1},backup=0`);
    expect(passthroughValue(disk('scsi1', WD1, { serial: 'WD-CA0AAAA1', ssd: true, discard: true, readonly: false, iothread: true, cache: 'none', aio: 'native', replicate: false, backup: true }))).toBe(
      `${WD1},aio=native,backup=1,cache=none,discard=on,iothread=1,replicate=0,ro=0,serial=WD-CA0AAAA1,ssd=1`,
    );
  });

  it('parses a drive value and leaves out the size Proxmox adds', () => {
    expect(parseDrive(`${WD1},backup=0,size=7814026584K`)).toEqual({ file: WD1, options: { backup: '0' } });
  });
});

describe('planPassthrough', () => {
  const host = { passthrough: [disk('scsi1', WD1), disk('scsi2', WD2, { serial: 'DISK2' })] };

  it('adds what is missing and keeps what matches, ignoring the boot disk and cd-roms', () => {
    const config = { scsi0: 'local-lvm:vm-360-disk-0,size=32G', ide2: 'local-lvm:vm-360-cloudinit,media=cdrom', scsi1: `${WD1},backup=0,size=7452G` };
    expect(planPassthrough(host, config)).toEqual([
      { kind: 'keep', slot: 'scsi1', device: WD1 },
      { kind: 'add', slot: 'scsi2', device: WD2, value: `${WD2},backup=0,serial=DISK2` },
    ]);
    expect(qmSetLine(360, planPassthrough(host, config))).toBe(`qm set 360 --scsi2 ${WD2},backup=0,serial=DISK2`);
  });

  it('updates options in place, and reports (never removes) what the intent lacks', () => {
    const config = { scsi1: `${WD1},backup=1,size=7452G`, scsi2: `${WD2},backup=0,serial=DISK2,size=7452G`, sata3: '/dev/disk/by-id/ata-OLD_DISK_X1,size=1T' };
    expect(planPassthrough(host, config)).toEqual([
      { kind: 'unmanaged', slot: 'sata3', current: '/dev/disk/by-id/ata-OLD_DISK_X1,size=1T' },
      { kind: 'update', slot: 'scsi1', device: WD1, value: `${WD1},backup=0`, current: `${WD1},backup=1,size=7452G` },
      { kind: 'keep', slot: 'scsi2', device: WD2 },
    ]);
  });

  it('never touches a slot holding something else, nor attaches a disk twice', () => {
    const config = { scsi1: 'local-lvm:vm-360-disk-1,size=8G', scsi5: `${WD2},backup=0` };
    expect(planPassthrough(host, config)).toEqual([
      { kind: 'conflict', slot: 'scsi1', device: WD1, current: 'local-lvm:vm-360-disk-1,size=8G', reason: 'scsi1 holds local-lvm:vm-360-disk-1; free the slot by hand or pick another' },
      { kind: 'conflict', slot: 'scsi2', device: WD2, current: `${WD2},backup=0`, reason: 'the disk is attached at scsi5; move it by hand or declare that slot' },
    ]);
    expect(qmSetLine(360, planPassthrough(host, config))).toBeUndefined();
  });
});
