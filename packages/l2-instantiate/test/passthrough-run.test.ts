import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectLab, connectLabAsRoot, loadLab, ProxmoxApiError, Secrets, type Lab, type ProxmoxClient } from '@ahl/core';
import { startSim, type RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convergePassthrough, parseDrive } from '../src/index.js';

const SECRET = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const WD1 = '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA1';
const WD2 = '/dev/disk/by-id/wwn-0x50014ee2b0000002';
const OLD = '/dev/disk/by-id/ata-ST4000VN008-2DR166_ZDH0OLD1';

describe('passthrough disks against pve-sim', () => {
  let sim: RunningSim;
  let dir: string;
  let lab: Lab;
  let client: ProxmoxClient;
  const secrets = new Secrets({ env: { T: SECRET, ROOT_PW: 'root' }, baseDir: '/' });
  const root = () => connectLabAsRoot(lab.config, secrets, dir);
  const config = () => client.request<Record<string, string>>('GET', '/nodes/pve1/qemu/360/config');

  beforeAll(async () => {
    sim = await startSim({
      https: false,
      authFailureDelayMs: 0,
      taskDurationMs: 20,
      statsLagMs: 0,
      seed: {
        nodes: [
          {
            name: 'pve1',
            disks: [
              { devpath: '/dev/sda', size: 500, type: 'ssd', model: 'Samsung SSD 870 EVO 500GB', serial: 'S6PXNS0T100001', used: 'LVM' },
              { devpath: '/dev/sdb', size: '7452G', model: 'WDC WD80EFZZ-68BTXN0', serial: 'WD-CA0AAAA1' },
              { devpath: '/dev/sdc', size: '7452G', model: 'WDC WD80EFZZ-68BTXN0', serial: 'WD-CA0AAAA2', wwn: '0x50014ee2b0000002' },
              { devpath: '/dev/sdd', size: '3726G', model: 'ST4000VN008-2DR166', serial: 'ZDH0OLD1' },
            ],
          },
        ],
        storages: [
          { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'backup'], size: 100 },
          { id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 200 },
        ],
        users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
        acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
        guests: [{ vmid: 360, node: 'pve1', name: 'nas-01', config: { memory: '8192', scsi0: 'local-lvm:vm-360-disk-0,size=32G', net0: 'virtio=02:AD:00:00:01:60,bridge=vmbr0' } }],
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'ahl-passthrough-'));
    const files: Record<string, string> = {
      'lab.yaml': `name: pt\nproxmox:\n  endpoint: ${sim.url}\n  tokenId: ahl@pve!ahl\n  tokenSecret: env:T\nnodes:\n  pve1: {}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]\n`,
      'images/truenas.yaml': 'kind: appliance\nos: {family: truenas, release: "25.04"}\nsource: {capture: truenas}\ntemplate: {node: pve1, storage: local-lvm, vmid: 9300}\n',
      'personas/nas.yaml': `kind: appliance\ntemplate: truenas@stable\nhosts:\n  nas-01:\n    node: pve1\n    vmid: 360\n    passthrough:\n      - {slot: scsi1, device: ${WD1}}\n      - {slot: scsi2, device: ${WD2}, options: {serial: WD-CA0AAAA2}}\n`,
    };
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), text);
    }
    lab = await load();
    client = await connectLab(lab.config, secrets, dir);
  });

  afterAll(async () => {
    await client?.close();
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function load(): Promise<Lab> {
    const { lab: l, errors } = await loadLab(dir);
    if (!l) throw new Error(JSON.stringify(errors));
    return l;
  }

  it('plans without changing anything, and needs root@pam to act', async () => {
    const before = await config();
    const plan = await convergePassthrough(lab, client, lab.hosts);
    expect(plan.hosts).toEqual([
      {
        host: 'nas-01',
        vmid: 360,
        node: 'pve1',
        state: 'planned',
        actions: [
          { kind: 'add', slot: 'scsi1', device: WD1, value: `${WD1},backup=0` },
          { kind: 'add', slot: 'scsi2', device: WD2, value: `${WD2},backup=0,serial=WD-CA0AAAA2` },
        ],
        pending: [],
        qmSet: `qm set 360 --scsi1 ${WD1},backup=0 --scsi2 ${WD2},backup=0,serial=WD-CA0AAAA2`,
      },
    ]);
    // No root password in lab.yaml: nothing is attempted.
    const noRoot = await convergePassthrough(lab, client, lab.hosts, { apply: true, root });
    expect(noRoot.needsRoot).toEqual(['nas-01']);
    expect(await config()).toEqual(before);
    // Proxmox refuses device paths to tokens, whatever their privileges.
    const refused = await client.request('PUT', '/nodes/pve1/qemu/360/config', { scsi1: WD1 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProxmoxApiError);
    expect((refused as ProxmoxApiError).status).toBe(403);
    expect((refused as ProxmoxApiError).statusText).toMatch(/Only root can pass arbitrary filesystem paths/);
  });

  it('attaches as root@pam, then a second run finds nothing to do', async () => {
    writeFileSync(join(dir, 'lab.local.yaml'), 'proxmox:\n  rootPassword: env:ROOT_PW\n');
    lab = await load();
    const first = await convergePassthrough(lab, client, lab.hosts, { apply: true, root });
    expect(first.hosts.map((h) => [h.host, h.state, h.pending])).toEqual([['nas-01', 'applied', []]]);
    const cfg = await config();
    expect(cfg.scsi1).toBe(`${WD1},backup=0,size=7452G`);
    expect(cfg.scsi2).toBe(`${WD2},backup=0,serial=WD-CA0AAAA2,size=7452G`);
    let rootAsked = 0;
    const second = await convergePassthrough(lab, client, lab.hosts, { apply: true, root: () => (rootAsked++, root()) });
    expect(second.hosts.map((h) => [h.state, h.actions.map((a) => a.kind)])).toEqual([['in-sync', ['keep', 'keep']]]);
    expect(rootAsked).toBe(0);
  });

  it('reports a disk added by hand and puts a changed option back, never detaching anything', async () => {
    const r = await root()!;
    try {
      await r.request('PUT', '/nodes/pve1/qemu/360/config', { sata3: OLD, scsi1: `${WD1},backup=1` });
    } finally {
      await r.close();
    }
    const drift = await convergePassthrough(lab, client, lab.hosts, { apply: true, root });
    expect(drift.hosts[0]!.actions.map((a) => [a.kind, a.slot])).toEqual([
      ['unmanaged', 'sata3'],
      ['update', 'scsi1'],
      ['keep', 'scsi2'],
    ]);
    expect(drift.hosts[0]!.state).toBe('applied');
    const cfg = await config();
    expect(parseDrive(cfg.scsi1!)).toEqual({ file: WD1, options: { backup: '0' } });
    expect(cfg.sata3).toBe(`${OLD},size=3726G`);
  });

  it('fails clearly for a disk the node does not have', async () => {
    const persona = join(dir, 'personas/nas.yaml');
    writeFileSync(persona, readFileSync(persona, 'utf8').replace(`{slot: scsi2, device: ${WD2}`, `{slot: scsi2, device: ${WD2}}\n      - {slot: scsi4, device: /dev/disk/by-id/ata-NOT_THERE_1`));
    lab = await load();
    const run = await convergePassthrough(lab, client, lab.hosts, { apply: true, root });
    expect(run.hosts[0]!.state).toBe('failed');
    expect(run.hosts[0]!.error).toMatch(/volume \/dev\/disk\/by-id\/ata-NOT_THERE_1 does not exist/);
    expect((await config()).scsi4).toBeUndefined();
  });
});
