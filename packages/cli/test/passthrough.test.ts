import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSim, type RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ahl, writeTree } from './helpers.js';

const SECRET = '5d1e7c3a-9b2f-4c6d-8e0a-1f3b5d7c9e2a';
const ROOT_PW = 'r00t-Pa55-q7Zx';
const WD1 = '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA1';
const WD2 = '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA2';

describe('ahl passthrough', () => {
  let sim: RunningSim;
  let dir: string;
  const env = { T: SECRET, ROOT_PW };
  const puts = () => Object.entries(sim.stats.snapshot()).filter(([k]) => k.startsWith('PUT')).reduce((n, [, s]) => n + s.count, 0);

  beforeAll(async () => {
    sim = await startSim({
      https: false,
      authFailureDelayMs: 0,
      statsLagMs: 0,
      taskDurationMs: 10,
      seed: {
        nodes: [
          {
            name: 'pve1',
            bridges: [{ iface: 'vmbr0' }],
            disks: [
              { devpath: '/dev/sda', size: 500, type: 'ssd', model: 'Samsung SSD 870 EVO 500GB', serial: 'S6PXNS0T100001', used: 'LVM' },
              { devpath: '/dev/sdb', size: '7452G', model: 'WDC WD80EFZZ-68BTXN0', serial: 'WD-CA0AAAA1' },
              { devpath: '/dev/sdc', size: '7452G', model: 'WDC WD80EFZZ-68BTXN0', serial: 'WD-CA0AAAA2' },
            ],
          },
        ],
        users: [
          { id: 'root@pam', password: ROOT_PW },
          { id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] },
        ],
        acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
        guests: [
          { vmid: 360, name: 'nas-01', config: { scsi0: 'local-lvm:vm-360-disk-0,size=32G', tags: 'ahl' } },
          { vmid: 301, name: 'web-01', config: { tags: 'ahl' } },
        ],
      },
    });
    dir = writeTree(mkdtempSync(join(tmpdir(), 'ahl-cli-passthrough-')), {
      'lab.yaml': `name: cli-pt\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T"}\nnodes: {pve1: {}}\ncloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}\n`,
      'images/noble.yaml': 'os: {family: ubuntu, release: noble}\nsource: {url: "https://x/noble.img", checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}\n',
      'images/truenas.yaml': 'kind: appliance\nos: {family: truenas, release: "25.04"}\nsource: {capture: truenas}\n',
      'personas/web.yaml': 'template: noble@stable\nhosts:\n  web-01: {node: pve1, ip: 10.0.0.11/24, gateway: 10.0.0.1, vmid: 301}\n',
      'personas/nas.yaml': `kind: appliance\ntemplate: truenas@stable\nhosts:\n  nas-01:\n    node: pve1\n    vmid: 360\n    passthrough:\n      - {slot: scsi1, device: ${WD1}}\n      - {slot: scsi2, device: ${WD2}, options: {serial: WD-CA0AAAA2}}\n`,
    });
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('plans without --approve and changes nothing', async () => {
    const r = await ahl(['passthrough', '--dir', dir], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      [
        'nas-01 (vmid 360 on pve1)  planned',
        `  + scsi1  attach ${WD1},backup=0`,
        `  + scsi2  attach ${WD2},backup=0,serial=WD-CA0AAAA2`,
        `  by hand, as root on pve1: qm set 360 --scsi1 ${WD1},backup=0 --scsi2 ${WD2},backup=0,serial=WD-CA0AAAA2`,
        'dry run: 1 VM would change; nothing was changed (--approve to act)',
        '',
      ].join('\n'),
    );
    expect(puts()).toBe(0);
  });

  it('says root@pam is needed when the lab has no root password, and changes nothing', async () => {
    const r = await ahl(['passthrough', 'nas', '--approve', '--dir', dir], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot attach passthrough disks to nas-01 with an API token');
    expect(r.stderr).toContain('proxmox.rootPassword');
    expect(r.stderr).toContain(`qm set 360 --scsi1 ${WD1},backup=0`);
    expect(puts()).toBe(0);
  });

  it('attaches as root@pam with --approve, then finds nothing to do; the password never shows', async () => {
    writeFileSync(join(dir, 'lab.local.yaml'), 'proxmox:\n  rootPassword: env:ROOT_PW\n');
    const first = await ahl(['passthrough', 'nas-01', '--approve', '--json', '--dir', dir], { env });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).hosts[0]).toMatchObject({ host: 'nas-01', state: 'applied', pending: [] });
    expect(puts()).toBe(1);
    const second = await ahl(['passthrough', '--approve', '--dir', dir], { env });
    expect(second.code).toBe(0);
    expect(second.stderr).toBe(['nas-01 (vmid 360 on pve1)  in-sync', `  = scsi1  ${WD1} as declared`, `  = scsi2  ${WD2} as declared`, '0 VMs changed, 2 in sync', ''].join('\n'));
    expect(puts()).toBe(1);
    for (const r of [first, second]) expect(r.stdout + r.stderr).not.toContain(ROOT_PW);
  });

  it('drift --layer L2: clean after the converge; a changed intent is a finding that reconcile leaves for approval', async () => {
    const clean = await ahl(['drift', '--layer', 'L2', '--json', '--dir', dir], { env });
    expect(clean.code, clean.stderr).toBe(0);
    const report = JSON.parse(clean.stdout);
    expect(report.layers[1]).toEqual({ layer: 'L2', name: 'instances', checked: true, partial: "the VM's shape was not compared: neither terraform nor tofu was found", hosts: ['nas-01', 'web-01'], unchecked: [] });
    expect(report.findings).toEqual([]);

    const persona = join(dir, 'personas/nas.yaml');
    const before = readFileSync(persona, 'utf8');
    writeFileSync(persona, before.replace(`- {slot: scsi1, device: ${WD1}}`, `- {slot: scsi1, device: ${WD1}, options: {backup: true}}`));
    try {
      const r = await ahl(['drift', 'nas', '--layer', 'L2', '--json', '--dir', dir], { env });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).findings).toEqual([
        { layer: 'L2', host: 'nas-01', cause: 'intent changed', what: [`scsi1: ${WD1} is attached as ${WD1},backup=0,size=7452G`], reconcile: 'ahl passthrough nas-01 --approve' },
      ]);
      const rec = await ahl(['reconcile', 'nas', '--layer', 'L2', '--json', '--dir', dir], { env });
      expect(rec.code).toBe(1);
      expect(JSON.parse(rec.stdout).outcomes).toEqual([{ layer: 'L2', host: 'nas-01', result: 'awaiting approval', detail: 'ahl passthrough nas-01' }]);
      expect(puts()).toBe(1);
    } finally {
      writeFileSync(persona, before);
    }
  });

  it('reports a device the intent lacks, leaves it attached, and a disk in another slot is a conflict (exit 1)', async () => {
    writeFileSync(join(dir, 'personas/nas.yaml'), `kind: appliance\ntemplate: truenas@stable\nhosts:\n  nas-01:\n    node: pve1\n    vmid: 360\n    passthrough:\n      - {slot: scsi2, device: ${WD2}, options: {serial: WD-CA0AAAA2}}\n`);
    const dropped = await ahl(['passthrough', '--approve', '--dir', dir], { env });
    expect(dropped.code).toBe(0);
    expect(dropped.stderr).toContain(`  ? scsi1  ${WD1},backup=0,size=7452G is not declared; left attached`);
    expect(puts()).toBe(1);

    writeFileSync(join(dir, 'personas/nas.yaml'), `kind: appliance\ntemplate: truenas@stable\nhosts:\n  nas-01:\n    node: pve1\n    vmid: 360\n    passthrough:\n      - {slot: scsi3, device: ${WD1}}\n      - {slot: scsi2, device: ${WD2}, options: {serial: WD-CA0AAAA2}}\n`);
    const r = await ahl(['passthrough', '--approve', '--dir', dir], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        'nas-01 (vmid 360 on pve1)  conflict',
        `  = scsi2  ${WD2} as declared`,
        `  ! scsi3  ${WD1}: the disk is attached at scsi1; move it by hand or declare that slot`,
        '0 VMs changed, 1 in sync, 1 with a conflict',
        '',
      ].join('\n'),
    );
    expect(puts()).toBe(1);
  });
});
