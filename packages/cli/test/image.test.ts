import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSim, type RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ahl, servedImage, writeTree } from './helpers.js';

const SECRET = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('ahl image', () => {
  let sim: RunningSim;
  let image: Awaited<ReturnType<typeof servedImage>>;
  let dir: string;
  const env = { T: SECRET };

  beforeAll(async () => {
    image = await servedImage();
    sim = await startSim({
      https: false,
      authFailureDelayMs: 0,
      statsLagMs: 0,
      taskDurationMs: 10,
      seed: {
        nodes: [{ name: 'pve1', bridges: [{ iface: 'vmbr0' }] }],
        storages: [
          { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['import', 'iso'], size: 50 },
          { id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 50 },
        ],
        users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
        acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'ahl-cli-image-'));
    const files: Record<string, string> = {
      'lab.yaml': `name: cli-image\nproxmox:\n  endpoint: ${sim.url}\n  tokenId: ahl@pve!ahl\n  tokenSecret: env:T\nnodes:\n  pve1: {}\ndefaults:\n  storage: {vm: local-lvm, iso: local, import: local}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]\n`,
      'images/noble.yaml': `os: {family: ubuntu, release: noble}\nsource:\n  url: ${image.url}\n  checksum: ${image.checksum}\ntemplate: {vmid: 9000}\n`,
      'personas/web.yaml': 'template: noble@stable\nhosts:\n  web-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1}\n',
    };
    writeTree(dir, files);
  });

  afterAll(async () => {
    await sim?.stop();
    await image?.close();
  });

  it('builds, skips the identical rebuild, lists, refuses an unknown version and plans a prune', async () => {
    const built = await ahl(['image', 'build', 'noble', '--dir', dir], { env });
    expect(built.code).toBe(0);
    expect(built.stderr).toMatch(/✓ built noble-\d{8}-\d{6} \(vmid 9000\), now noble@stable/);
    const again = await ahl(['image', 'build', 'noble', '--dir', dir], { env });
    expect(again.stderr).toMatch(/✓ noble-\d{8}-\d{6} \(vmid 9000\) was built from the same spec and source; use --force to rebuild/);
    const list = await ahl(['image', 'list', '--json', '--dir', dir], { env });
    expect(JSON.parse(list.stdout)).toMatchObject({ images: [{ image: 'noble', templates: [{ vmid: 9000, present: true, channels: ['stable'] }], hosts: { stable: ['web-01'] } }], orphans: [] });
    const bad = await ahl(['image', 'promote', 'noble', '20000101-000000', '--dir', dir], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/✗ no template noble 20000101-000000 was built/);
    const plan = await ahl(['image', 'prune', 'noble', '--keep', '0', '--dir', dir], { env });
    expect(plan.stderr).toMatch(/keep {3}noble-\d{8}-\d{6} \(vmid 9000\): on channel stable\nnothing to remove/);
  });

  it('says an undeclared image is a usage error', async () => {
    const r = await ahl(['image', 'build', 'nope', '--dir', dir], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('USAGE: image "nope" is not declared (images: noble)');
  });
});
