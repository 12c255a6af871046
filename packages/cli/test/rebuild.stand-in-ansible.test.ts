import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectLab, loadLab, Secrets } from '@ahl/core';
import type { RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import { ahl, missingForL2, oneNodeSim, writeTree } from './helpers.js';

// Unit tier, with a stand-in: `ahl rebuild` with the real terraform and bpg/proxmox provider against
// pve-sim, and a stand-in ansible-playbook that answers each playbook as the bundled content would
// (events, and the per-host reports the L4 playbooks write), logging which playbook ran. What this
// proves is ahl's part: the phases, their order, the record, --resume, and which backup is restored.
// The digest check of a restore is ahl-restore's, on the host: the stand-in only mirrors its
// contract (exit 5 and status "mismatch" when the restored data's digest is not the snapshot's), so
// a match here is the stand-in's, not a check of real data (packages/l4-workload/test/workload.tool.test.ts
// restores real data on a real guest and checks its digest).
// Terraform makes these tests take tens of seconds (more on a cold or busy machine): hence the
// explicit timeouts, well above the unit tier's default.
const TIMEOUT = 10 * 60_000;

const SECRET = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const SNAPSHOT = '20261126T030000Z';

const BACKUP_DIGEST = `sha256:${'ab'.repeat(32)}`;

/**
 * A stand-in ansible-playbook: node, logging `PLAYBOOK HOSTS` to $FAKE_LOG (a restore also logs the
 * snapshot ahl asked for), every host ok. Its backups all record BACKUP_DIGEST; a restore reports
 * the data it put back as $FAKE_RESTORED_DIGEST (default: the snapshot's digest) and, as ahl-restore
 * does, exits 5 with status "mismatch" when that differs from the snapshot's.
 */
function playbook(dir: string): string {
  const bin = join(dir, 'ansible-playbook');
  writeFileSync(
    bin,
    `#!${process.execPath}
const { appendFileSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const argv = process.argv.slice(2);
const book = argv[argv.length - 1];
const hosts = argv[argv.indexOf('--limit') + 1].split(',');
const l4 = book.includes('l4-workload');
const name = (l4 ? 'l4/' : 'l3/') + book.split('/').pop();
// The snapshot ahl asks for is in the host_vars it wrote (cwd is the inventory folder); null: the latest.
const snapshot = (h) => (/^ahl_restore_snapshot: (?:!unsafe )?["']?(\\w+)["']?$/m.exec(readFileSync('host_vars/' + h + '.yml', 'utf8')) || [])[1] || 'unreadable';
const asked = name === 'l4/restore.yml' ? ' ' + hosts.map((h) => snapshot(h)).join(',') : '';
appendFileSync(process.env.FAKE_LOG, name + ' ' + hosts.join(',') + (argv.some((a) => a.includes('ahl_wait_hosts')) ? ' wait' : '') + asked + '\\n');
const now = new Date().toISOString();
const backup = (h) => ({ host: h, id: '${SNAPSHOT}', time: now, finished: now, status: 'ok', size: 4096, files: 3, digest: '${BACKUP_DIGEST}', target: 'backup@nas:/tank/ahl', paths: ['/srv/app'] });
const restore = (h) => {
  const id = snapshot(h) === 'null' ? '${SNAPSHOT}' : snapshot(h);
  const expected = id === '${SNAPSHOT}' ? backup(h).digest : '';
  if (!expected) return { rc: 4, stdout: '', stderr: 'snapshot ' + id + ' of ' + h + ' is not on backup@nas:/tank/ahl\\n' };
  const digest = process.env.FAKE_RESTORED_DIGEST || expected;
  const status = digest === expected ? 'ok' : 'mismatch';
  const stdout = JSON.stringify({ host: h, id, time: now, status, digest, expected, restarted: [] }) + '\\n';
  return status === 'ok' ? { rc: 0, stdout, stderr: '' } : { rc: 5, stdout, stderr: 'restored data of ' + h + " does not match snapshot " + id + "'s digest\\n" };
};
mkdirSync('reports', { recursive: true });
for (const h of hosts) {
  let report;
  if (name === 'l4/site.yml') report = { stacks: [{ name: 'app', changed: true, action: 'up', containers: ['/app-app-1 running healthy'] }], orphans: [], removed: [], compose: 'docker compose' };
  if (name === 'l4/status.yml') report = { rc: 0, stdout: 'last\\t' + JSON.stringify(backup(h)) + '\\n', stderr: '' };
  if (name === 'l4/backup.yml') report = { rc: 0, stdout: JSON.stringify(backup(h)) + '\\n', stderr: '' };
  if (name === 'l4/restore.yml') report = restore(h);
  if (report) writeFileSync('reports/' + h + '.json', JSON.stringify(report));
  console.log(JSON.stringify({ event: 'host_task', host: h, task: name, status: 'changed' }));
}
console.log(JSON.stringify({ event: 'stats', hosts: Object.fromEntries(hosts.map((h) => [h, { ok: 3, changed: 1, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 }])) }));
`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

prerequisites(missingForL2()).describe('ahl rebuild (stand-in ansible-playbook)', () => {
  let sim: RunningSim;
  let dir: string;
  let log: string;
  let env: Record<string, string | undefined>;
  const ran = () => readFileSync(log, 'utf8').trim().split('\n');
  const record = () => JSON.parse(readFileSync(join(dir, '.ahl/state/rebuild/app-01.json'), 'utf8')) as { startedAt: string; done: string[]; failed?: { phase: string }; snapshot?: { id: string; digest?: string }; finishedAt?: string };

  beforeAll(async () => {
    sim = await oneNodeSim(SECRET, [{ vmid: 9000, name: 'deb-20261101-120000', template: true, config: { memory: '1024', scsi0: 'local-lvm:base-9000-disk-0,size=2G', net0: 'virtio=BC:24:11:00:90:00,bridge=vmbr0', boot: 'order=scsi0', tags: 'ahl-template' } }], true);
    dir = mkdtempSync(join(tmpdir(), 'ahl-rebuild-'));
    log = join(dir, 'playbooks.log');
    writeFileSync(log, '');
    env = { T: SECRET, PATH: process.env.PATH, HOME: process.env.HOME, FAKE_LOG: log, AHL_ANSIBLE_PLAYBOOK: playbook(dir), ...(process.env.AHL_CACHE_DIR ? { AHL_CACHE_DIR: process.env.AHL_CACHE_DIR } : {}) };
    const manifest = { image: 'deb', version: '20261101-120000', vmid: 9000, node: 'pve1', storage: 'local-lvm', templateName: 'deb-20261101-120000', source: { url: 'https://x.example/deb.img' }, specDigest: 'x', toolVersion: 't', createdAt: '2026-11-01T12:00:00Z' };
    writeTree(dir, {
      'lab.yaml': `name: rebuild\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T", tls: {verify: false, fingerprint: "${sim.fingerprint}"}}\nnodes: {pve1: {}}\ndefaults: {storage: {vm: local-lvm, iso: local, import: local, snippets: local}}\ncloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}\nworkloads: {dataRoots: [/srv]}\nbackup:\n  target: {kind: rsync, host: 10.0.0.5, user: backup, path: /tank/ahl}\n`,
      'images/deb.yaml': `os: {family: debian, release: bookworm}\nsource: {url: "https://x.example/deb.img", checksum: "sha256:${'0'.repeat(64)}"}\ntemplate: {vmid: 9000}\n`,
      'images/deb/artifacts/20261101-120000.json': JSON.stringify(manifest),
      'images/deb/channels.json': JSON.stringify({ channels: { stable: '20261101-120000' } }),
      'stacks/app/compose.yaml': 'services:\n  app:\n    image: busybox\n    volumes: ["/srv/app:/data"]\n',
      'personas/app.yaml':
        'template: deb@stable\nresources: {disk: 4}\nsystem: {packages: [tree]}\nworkloads:\n  - stack: app\n    data: [{path: /srv/app}]\nbackup: {maxAge: 26h}\nhosts:\n  app-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n',
    });
    const up = await ahl(['up', 'app-01', '--approve', '--dir', dir], { env });
    if (up.code !== 0) throw new Error(`ahl up failed:\n${up.stderr}`);
  }, TIMEOUT);

  afterAll(async () => {
    await sim?.stop();
  });

  const config = () => sim.state.guests['301']?.config as Record<string, unknown> | undefined;

  it('plans: what is destroyed, the template it comes back from, the backup its data comes from; changes nothing', async () => {
    writeFileSync(log, '');
    const r = await ahl(['rebuild', 'app-01', '--dir', dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('ahl rebuild app-01');
    expect(r.stderr).toMatch(/1\. recreate +destroy vmid 301 on pve1 \(running\) with its disks, then create it again from deb@stable \(20261101-120000\)/);
    expect(r.stderr).toMatch(/3\. restore +restore backup 20261126T030000Z \(.*4096 bytes\) into \/srv\/app/);
    expect(r.stderr).toContain('nothing was changed (--approve to rebuild)');
    expect(ran()).toEqual(['l4/status.yml app-01']);
    expect(existsSync(join(dir, '.ahl/state/rebuild/app-01.json'))).toBe(false);
  });

  it('a failure midway leaves a record; a second rebuild refuses; --resume finishes it with the same backup', async () => {
    // Made by hand, so the recreated VM can be told from the old one.
    const client = await connectLab((await loadLab(dir)).lab!.config, new Secrets({ env, baseDir: dir }), dir);
    await client.request('PUT', '/nodes/pve1/qemu/301/config', { description: 'the old VM' });
    await client.close();
    writeFileSync(log, '');
    const failed = await ahl(['rebuild', 'app-01', '--approve', '--dir', dir], { env: { ...env, AHL_REBUILD_FAIL_AFTER: 'recreate' } });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('Its data is safe in backup 20261126T030000Z. Fix the cause, then: ahl rebuild app-01 --resume --approve');
    expect(record()).toMatchObject({ done: ['recreate'], failed: { phase: 'system' }, snapshot: { id: SNAPSHOT } });
    expect(config()).toMatchObject({ name: 'app-01', ciuser: 'lab' });
    expect(String(config()!.description)).not.toBe('the old VM');

    const again = await ahl(['rebuild', 'app-01', '--approve', '--dir', dir], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('a rebuild of app-01 is unfinished (system failed');

    writeFileSync(log, '');
    const resumed = await ahl(['rebuild', 'app-01', '--resume', '--approve', '--dir', dir], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/✓ recreate +.*\(done\)/);
    // The recorded backup is used (its records are not read again), the VM is not touched again:
    // converge (waiting for the new VM's first boot), restore, deploy.
    expect(ran()).toEqual(['l3/site.yml app-01 wait', `l4/restore.yml app-01 ${SNAPSHOT}`, 'l4/site.yml app-01']);
    expect(record()).toMatchObject({ done: ['recreate', 'system', 'restore', 'workload'], snapshot: { id: SNAPSHOT }, finishedAt: expect.any(String) });
    expect(resumed.stderr).toContain('rebuilt app-01 from deb@stable (20261101-120000), data from backup 20261126T030000Z; its stacks are healthy');
    const nothing = await ahl(['rebuild', 'app-01', '--resume', '--dir', dir], { env });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('there is no unfinished rebuild of app-01 to resume');
    expect(nothing.stderr).toContain('; `ahl rebuild app-01 --approve` starts a new one');
  });

  it("rebuilding app-01 again runs a new rebuild; restored data without the backup's digest stops it at restore; --resume restores again", async () => {
    const first = record();
    expect(first.finishedAt).toEqual(expect.any(String));
    const client = await connectLab((await loadLab(dir)).lab!.config, new Secrets({ env, baseDir: dir }), dir);
    await client.request('PUT', '/nodes/pve1/qemu/301/config', { description: 'the VM the first rebuild made' });
    await client.close();
    writeFileSync(log, '');
    const failed = await ahl(['rebuild', 'app-01', '--approve', '--dir', dir], { env: { ...env, FAKE_RESTORED_DIGEST: `sha256:${'cd'.repeat(32)}` } });
    expect(failed.code).toBe(1);
    expect(failed.stderr).not.toContain('(done)');
    expect(failed.stderr).toContain(`✗ restore: the restore mismatch: restored data of app-01 does not match snapshot ${SNAPSHOT}'s digest`);
    expect(failed.stderr).toContain(`Its data is safe in backup ${SNAPSHOT}. Fix the cause, then: ahl rebuild app-01 --resume --approve`);
    // A new record (the finished one is not carried on), a new backup decision (status read again),
    // and the VM recreated again.
    expect(record()).toMatchObject({ done: ['recreate', 'system'], failed: { phase: 'restore' }, snapshot: { id: SNAPSHOT, digest: BACKUP_DIGEST } });
    expect(record().startedAt).not.toBe(first.startedAt);
    expect(record().finishedAt).toBeUndefined();
    expect(ran()).toEqual(['l4/status.yml app-01', 'l3/site.yml app-01 wait', `l4/restore.yml app-01 ${SNAPSHOT}`]);
    expect(config()).toMatchObject({ name: 'app-01', ciuser: 'lab' });
    expect(String(config()!.description)).not.toBe('the VM the first rebuild made');

    writeFileSync(log, '');
    const resumed = await ahl(['rebuild', 'app-01', '--resume', '--approve', '--dir', dir], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(ran()).toEqual([`l4/restore.yml app-01 ${SNAPSHOT}`, 'l4/site.yml app-01']);
    expect(record()).toMatchObject({ done: ['recreate', 'system', 'restore', 'workload'], snapshot: { id: SNAPSHOT }, finishedAt: expect.any(String) });
  });
}, { timeout: TIMEOUT });
