import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRebuild, type RebuildRecord } from '@ahl/ops';
import { renderRebuildPlan } from '../src/views/rebuild.js';
import { ahl, oneNodeSim, writeTree } from './helpers.js';

describe('planRebuild', () => {
  const base = { host: 'app-01', vm: { vmid: 301, node: 'pve1', power: 'running' }, template: { ref: 'deb@stable', version: '20261120-000000' } };

  it('takes a backup first when the last one is stale, then recreates, converges, restores and deploys', () => {
    const p = planRebuild({ ...base, data: { kind: 'take', why: 'the last good one is 3 days old; maxAge 26h', paths: ['/srv/app'] } });
    expect(renderRebuildPlan(p, false)).toBe(
      [
        'ahl rebuild app-01',
        '  1. backup   back up /srv/app now (the last good one is 3 days old; maxAge 26h)',
        '  2. recreate destroy vmid 301 on pve1 (running) with its disks, then create it again from deb@stable (20261120-000000)',
        '  3. system   converge the system (L3), once it has booted',
        '  4. restore  restore the backup taken first into /srv/app',
        '  5. workload deploy the stacks (L4) and wait until they are healthy',
        '  the last good backup is not fresh enough (the last good one is 3 days old; maxAge 26h): one is taken before anything is destroyed',
        '',
      ].join('\n'),
    );
  });

  it('has no backup or restore for a host without data, and marks what a resumed rebuild already did', () => {
    const p = planRebuild({ ...base, data: { kind: 'none' }, record: { host: 'app-01', startedAt: '2026-11-26T10:00:00Z', template: '20261120-000000', done: ['recreate'] } });
    expect(p.phases.map((x) => [x.phase, x.done])).toEqual([
      ['recreate', true],
      ['system', false],
      ['workload', false],
    ]);
    expect(renderRebuildPlan(p, true).split('\n').slice(0, 2)).toEqual(['ahl rebuild app-01 (resuming)', '  ✓ recreate destroy vmid 301 on pve1 (running) with its disks, then create it again from deb@stable (20261120-000000) (done)']);
  });
});

// pve-sim for the VM and a host without data (so no ansible-playbook is asked about backups); no
// terraform: AHL_TERRAFORM names none, so a rebuild that really starts stops at recreate.
describe('ahl rebuild over the record of a finished rebuild (without terraform)', () => {
  const SECRET = '3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a9f';
  const V1 = '20261101-120000';
  const V2 = '20261120-120000';
  let sim: RunningSim;
  let dir: string;
  let env: Record<string, string>;
  const file = () => join(dir, '.ahl/state/rebuild/app-01.json');
  const record = () => JSON.parse(readFileSync(file(), 'utf8')) as RebuildRecord;
  const finished: RebuildRecord = { host: 'app-01', startedAt: '2026-11-02T10:00:00.000Z', template: V1, done: ['recreate', 'system'], took: { recreate: 1000, system: 2000 }, finishedAt: '2026-11-02T10:05:00.000Z' };

  beforeAll(async () => {
    sim = await oneNodeSim(SECRET, [
      { vmid: 9001, name: `deb-${V2}`, template: true, config: { tags: 'ahl-template' } },
      { vmid: 301, name: 'app-01', running: true, config: { tags: 'ahl;app' } },
    ]);
    const manifest = { image: 'deb', version: V2, vmid: 9001, node: 'pve1', storage: 'local-lvm', templateName: `deb-${V2}`, source: { url: 'https://x.example/deb.img' }, specDigest: 'x', toolVersion: 't', createdAt: '2026-11-20T12:00:00Z' };
    dir = writeTree(mkdtempSync(join(tmpdir(), 'ahl-cli-rebuild-')), {
      'lab.yaml': `name: cli-rebuild\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T"}\nnodes: {pve1: {}}\ndefaults: {storage: {vm: local-lvm, iso: local, import: local, snippets: local}}\ncloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}\n`,
      'images/deb.yaml': `os: {family: debian, release: bookworm}\nsource: {url: "https://x.example/deb.img", checksum: "sha256:${'0'.repeat(64)}"}\ntemplate: {vmid: 9001}\n`,
      [`images/deb/artifacts/${V2}.json`]: JSON.stringify(manifest),
      'images/deb/channels.json': JSON.stringify({ channels: { stable: V2 } }),
      'personas/app.yaml': 'template: deb@stable\nsystem: {packages: [tree]}\nhosts:\n  app-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n',
    });
    env = { T: SECRET, AHL_TERRAFORM: join(dir, 'no-terraform-here') };
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('plans a new rebuild from the template its channel points at now, nothing marked done', async () => {
    writeTree(dir, { '.ahl/state/rebuild/app-01.json': JSON.stringify(finished) });
    const r = await ahl(['rebuild', 'app-01', '--json', '--dir', dir], { env });
    expect(r.code, r.stderr).toBe(0);
    const { plan } = JSON.parse(r.stdout) as { plan: { template: { version: string }; phases: { phase: string; done: boolean }[] } };
    expect(plan.template.version).toBe(V2);
    expect(plan.phases.map((x) => [x.phase, x.done])).toEqual([
      ['recreate', false],
      ['system', false],
      ['workload', false],
    ]);
    expect(r.stderr).not.toContain('(done)');
    expect(record()).toEqual(finished);
  });

  it('--resume says there is nothing to resume, exit 2, and changes nothing', async () => {
    writeTree(dir, { '.ahl/state/rebuild/app-01.json': JSON.stringify(finished) });
    const r = await ahl(['rebuild', 'app-01', '--resume', '--approve', '--dir', dir], { env });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe(
      'USAGE: there is no unfinished rebuild of app-01 to resume: the last one finished at 2026-11-02T10:05:00.000Z; `ahl rebuild app-01 --approve` starts a new one',
    );
    expect(record()).toEqual(finished);
  });

  it('--approve starts a new rebuild with a new record, which runs its phases (here recreate, failing without terraform)', async () => {
    writeTree(dir, { '.ahl/state/rebuild/app-01.json': JSON.stringify(finished) });
    const r = await ahl(['rebuild', 'app-01', '--approve', '--dir', dir], { env });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toContain('(done)');
    expect(r.stderr).not.toContain('rebuilt app-01');
    expect(r.stderr).toContain('✗ recreate: neither terraform nor tofu was found');
    const rec = record();
    expect(rec).toMatchObject({ host: 'app-01', template: V2, done: [], failed: { phase: 'recreate' } });
    expect(rec.startedAt).not.toBe(finished.startedAt);
    expect(rec.finishedAt).toBeUndefined();
  });

  it('an unfinished record keeps its refusal without --resume, and --resume plans the phases left', async () => {
    const unfinished: RebuildRecord = { host: 'app-01', startedAt: '2026-11-02T10:00:00.000Z', template: V1, done: ['recreate'], failed: { phase: 'system', message: 'the system converge failed', at: '2026-11-02T10:03:00.000Z' } };
    writeTree(dir, { '.ahl/state/rebuild/app-01.json': JSON.stringify(unfinished) });
    const refused = await ahl(['rebuild', 'app-01', '--approve', '--dir', dir], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr.split('\n')[0]).toBe('USAGE: a rebuild of app-01 is unfinished (system failed: the system converge failed); carry it on with --resume');
    const resumed = await ahl(['rebuild', 'app-01', '--resume', '--json', '--dir', dir], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    const { plan } = JSON.parse(resumed.stdout) as { plan: { template: { version: string }; phases: { phase: string; done: boolean }[] } };
    expect(plan.template.version).toBe(V1);
    expect(plan.phases.map((x) => [x.phase, x.done])).toEqual([
      ['recreate', true],
      ['system', false],
      ['workload', false],
    ]);
  });
});
