import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryReporter, Secrets } from '@ahl/core';
import { isConvergeError, type PlaybookSpawner } from '@ahl/l3-system';
import { describe, expect, it } from 'vitest';
import { backupNow, backupStatus, deployWorkloads, restoreWorkloads } from '../src/index.js';
import { fixtureLab } from './helpers.js';

/*
 * The runner with ansible-playbook replaced by a spawner that replays the callback's NDJSON and
 * writes the content's per-host report, as the real playbooks do.
 */
const TOKEN = 'tok-77c1e0a5b4';
const secrets = () => new Secrets({ env: { L4_UNIT_TOKEN: TOKEN }, baseDir: '/' });
const ev = (o: Record<string, unknown>) => JSON.stringify(o);
const stats = (hosts: string[], changed = 0) => ev({ event: 'stats', hosts: Object.fromEntries(hosts.map((h) => [h, { ok: 10, changed, failures: 0, unreachable: 0, skipped: 1, rescued: 0, ignored: 0 }])) });

function fake(reports: Record<string, unknown>, lines: string[], exitCode = 0, seen: { argv?: readonly string[]; cwd?: string; env?: Record<string, string>; hostVars?: string; mode?: number } = {}): PlaybookSpawner {
  return async (argv, { env, cwd, onLine }) => {
    Object.assign(seen, { argv, cwd, env });
    const hv = join(cwd, 'host_vars/app-1.yml');
    if (existsSync(hv)) Object.assign(seen, { hostVars: await readFile(hv, 'utf8'), mode: statSync(hv).mode & 0o777 });
    for (const [h, r] of Object.entries(reports)) await writeFile(join(cwd, 'reports', `${h}.json`), JSON.stringify(r));
    for (const l of lines) onLine(l);
    return { exitCode, stderr: exitCode ? `ERROR! something about ${TOKEN}` : '' };
  };
}

const base = { ansiblePlaybook: '/bin/ansible-playbook', env: {} };

describe('deployWorkloads', () => {
  it('runs site.yml on the selected hosts, merges the reports, masks secrets and removes its folder', async () => {
    const lab = await fixtureLab();
    const seen: Parameters<typeof fake>[3] = {};
    const reporter = new MemoryReporter();
    const report = { stacks: [{ name: 'web', changed: true, action: 'recreate', containers: ['/web-web-1 running none'] }], orphans: ['old'], removed: [], compose: 'docker-compose' };
    const r = await deployWorkloads(lab, {
      ...base,
      targets: ['app-1'],
      secrets: secrets(),
      reporter,
      spawn: fake({ 'app-1': report }, [
        ev({ event: 'playbook_start', playbook: 'site.yml' }),
        ev({ event: 'host_task', host: 'app-1', task: 'stacks : Write the stack environment', status: 'changed', msg: `leaked ${TOKEN}` }),
        'a line that is not an event',
        stats(['app-1'], 3),
      ], 0, seen),
    });
    expect(seen.argv?.at(-1)).toMatch(/ansible\/site\.yml$/);
    expect(seen.argv).toContain('app-1');
    expect(seen.hostVars).toContain(`API_TOKEN=${TOKEN}`);
    expect(seen.mode).toBe(0o600);
    expect(existsSync(seen.cwd!)).toBe(false);
    expect(r.ok).toBe(true);
    expect(r.hosts).toHaveLength(1);
    expect(r.hosts[0]).toMatchObject({ host: 'app-1', status: 'changed', compose: 'docker-compose', orphans: ['old'], stacks: report.stacks });
    expect(JSON.stringify(r)).not.toContain(TOKEN);
    expect(JSON.stringify(reporter.events)).not.toContain(TOKEN);
    expect(JSON.stringify(reporter.events)).toContain('leaked ***');
  });

  it('passes --check, the stack filter and approval only outside check', async () => {
    const lab = await fixtureLab();
    const seen: Parameters<typeof fake>[3] = {};
    await deployWorkloads(lab, { ...base, targets: ['app-1'], secrets: secrets(), check: true, approve: true, stacks: ['db'], spawn: fake({}, [stats(['app-1'])], 0, seen) });
    expect(seen.argv).toContain('--check');
    expect(seen.hostVars).toContain('ahl_stack_filter:\n  - !unsafe db');
    expect(seen.hostVars).toContain('ahl_remove_approved: false');
    await expect(deployWorkloads(lab, { ...base, secrets: secrets(), stacks: ['nope'], spawn: fake({}, []) })).rejects.toThrow(/no selected host runs stack "nope"/);
  });

  it('as ahl up runs it, passes each host the digest of what it deploys (never the secret) and the skip; a host left alone says so', async () => {
    const lab = await fixtureLab();
    let vars: Record<string, unknown> | undefined;
    const spawn: PlaybookSpawner = async (argv, o) => {
      const file = argv.find((a) => a.startsWith('@'));
      vars = file ? (JSON.parse(await readFile(file.slice(1), 'utf8')) as Record<string, unknown>) : undefined;
      return fake({ 'app-1': { stacks: [], orphans: [], removed: [], compose: null, unchanged: true } }, [stats(['app-1'])])(argv, o);
    };
    const r = await deployWorkloads(lab, { ...base, targets: ['app-1'], secrets: secrets(), skipUnchanged: true, spawn });
    expect(vars).toEqual({ ahl_digests: { 'app-1': expect.stringMatching(/^[0-9a-f]{64}$/) }, ahl_skip_unchanged: true });
    expect(JSON.stringify(vars)).not.toContain(TOKEN);
    expect(r.hosts[0]).toMatchObject({ host: 'app-1', status: 'ok', unchanged: true, stacks: [] });
    const digest = (vars!.ahl_digests as Record<string, string>)['app-1'];
    // Another secret value is another digest: a rotated secret is deployed.
    await deployWorkloads(lab, { ...base, targets: ['app-1'], secrets: new Secrets({ env: { L4_UNIT_TOKEN: 'rotated' }, baseDir: '/' }), skipUnchanged: true, spawn });
    expect((vars!.ahl_digests as Record<string, string>)['app-1']).not.toBe(digest);
    // A deploy that removes stacks, or of some stacks only, or a --check, skips nothing; only the full ones record.
    await deployWorkloads(lab, { ...base, targets: ['app-1'], secrets: secrets(), skipUnchanged: true, approve: true, spawn });
    expect(vars).toMatchObject({ ahl_skip_unchanged: false });
    for (const o of [{ stacks: ['db'] }, { check: true }]) {
      await deployWorkloads(lab, { ...base, targets: ['app-1'], secrets: secrets(), skipUnchanged: true, ...o, spawn });
      expect(vars).toBeUndefined();
    }
  });

  it('throws a ConvergeError naming the command and exit status, output masked, when ansible cannot finish', async () => {
    const lab = await fixtureLab();
    const e = await deployWorkloads(lab, { ...base, secrets: secrets(), spawn: fake({}, ['boom'], 1) }).catch((x: unknown) => x);
    expect(isConvergeError(e)).toBe(true);
    if (!isConvergeError(e)) return;
    expect(e.message).toMatch(/ansible-playbook .* exited with status 1 before it finished/);
    expect(e.exitCode).toBe(1);
    expect(e.output).toContain('boom');
    expect(e.output).not.toContain(TOKEN);
  });

  it('reports a host that could not be reached', async () => {
    const lab = await fixtureLab();
    const r = await deployWorkloads(lab, {
      ...base,
      secrets: secrets(),
      spawn: fake({ 'app-1': { stacks: [], orphans: [], removed: [], compose: 'docker compose' } }, [
        ev({ event: 'host_task', host: 'app-2', task: 'Gathering', status: 'unreachable', msg: 'ssh: connect to host 10.0.0.12 port 22: No route to host' }),
        ev({ event: 'stats', hosts: { 'app-1': { ok: 5, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 }, 'app-2': { ok: 0, changed: 0, failures: 0, unreachable: 1, skipped: 0, rescued: 0, ignored: 0 } } }),
      ], 4),
    });
    expect(r.ok).toBe(false);
    expect(r.hosts.map((h) => [h.host, h.status])).toEqual([['app-1', 'ok'], ['app-2', 'unreachable']]);
  });
});

describe('backup, restore and status', () => {
  const rec = { host: 'app-1', id: '20261126T031500Z', time: '2026-11-26T03:15:00Z', finished: '2026-11-26T03:15:05Z', status: 'ok', size: 10, files: 1, digest: `sha256:${'b'.repeat(64)}`, target: 'rsync://backup@10.0.0.5:22/tank/ahl/app-1' };

  it('backupNow returns the record, or the failure with the script\'s message', async () => {
    const lab = await fixtureLab();
    const seen: Parameters<typeof fake>[3] = {};
    const r = await backupNow(lab, {
      ...base,
      spawn: fake({ 'app-1': { rc: 0, stdout: JSON.stringify(rec), stderr: '' }, 'app-2': { rc: 23, stdout: '', stderr: 'rsync: connection unexpectedly closed\n' } }, [stats(['app-1', 'app-2'], 1)], 0, seen),
    });
    expect(seen.argv?.at(-1)).toMatch(/backup\.yml$/);
    expect(r.ok).toBe(false);
    expect(r.hosts[0]).toEqual({ host: 'app-1', status: 'ok', record: rec });
    expect(r.hosts[1]).toMatchObject({ host: 'app-2', status: 'failed' });
    expect(r.hosts[1]!.message).toMatch(/status 23: rsync: connection unexpectedly closed/);
  });

  it('restore maps the script\'s exit statuses and validates the snapshot id', async () => {
    const lab = await fixtureLab();
    const seen: Parameters<typeof fake>[3] = {};
    const r = await restoreWorkloads(lab, {
      ...base,
      targets: ['app'],
      approve: true,
      snapshot: '20261126T031500Z',
      spawn: fake({ 'app-1': { rc: 3, stdout: '', stderr: 'refusing to restore over data that is there already: /srv/db' }, 'app-2': { rc: 4, stdout: '', stderr: 'no backup of app-2' } }, [stats(['app-1', 'app-2'])], 0, seen),
    });
    expect(seen.hostVars).toContain('ahl_restore_force: true');
    expect(seen.hostVars).toContain('ahl_restore_snapshot: !unsafe 20261126T031500Z');
    expect(r.hosts.map((h) => [h.host, h.status])).toEqual([['app-1', 'refused'], ['app-2', 'missing']]);
    await expect(restoreWorkloads(lab, { ...base, snapshot: 'latest; rm -rf /', spawn: fake({}, []) })).rejects.toThrow(/not a snapshot id/);
  });

  it('refuses before anything runs: no backup target (exit 1, the lab is wrong), or no selected host with data', async () => {
    const lab = await fixtureLab();
    const spawn = fake({}, []);
    const noTarget = { ...lab, config: { ...lab.config, backup: undefined } } as typeof lab;
    await expect(backupNow(noTarget, { ...base, spawn })).rejects.toMatchObject({ code: 'BACKUP_TARGET_MISSING', kind: 'invalid' });
    const noData = { ...lab, hosts: lab.hosts.map((h) => ({ ...h, backup: undefined, workloads: h.workloads.map((w) => ({ ...w, data: w.data.map((d) => ({ ...d, backup: false })) })) })) } as typeof lab;
    await expect(backupNow(noData, { ...base, spawn })).rejects.toMatchObject({ code: 'NOTHING_TO_BACK_UP', kind: 'usage' });
  });

  it('status reads the records back and judges freshness', async () => {
    const lab = await fixtureLab();
    const r = await backupStatus(lab, {
      ...base,
      targets: ['app-1'],
      now: new Date('2026-11-26T04:15:05Z'),
      spawn: fake({ 'app-1': { rc: 0, stdout: `last\t${JSON.stringify(rec)}\n`, stderr: '' } }, [stats(['app-1'])]),
    });
    expect(r.hosts[0]).toMatchObject({ host: 'app-1', status: 'ok', fresh: true, ageMs: 3_600_000, maxAge: '26h', last: rec });
  });
});
