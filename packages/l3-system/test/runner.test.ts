import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryReporter, Redactor } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { ANSIBLE_DIR, convergeSystem, ConvergeError, findAnsiblePlaybook, pendingReboots, SYSTEM_TAGS, type PlaybookSpawner } from '../src/index.js';
import { FIXTURES, fixtureLab } from './helpers.js';

/** A spawner that replays recorded stdout and remembers what it was asked to run. */
function replay(ndjson: string, exitCode = 0, stderr = '') {
  const seen: { argv: readonly string[]; env: Record<string, string>; files: Record<string, string> } = { argv: [], env: {}, files: {} };
  const spawn: PlaybookSpawner = async (argv, { env, cwd, onLine }) => {
    seen.argv = argv;
    seen.env = env;
    for (const f of ['inventory.yml', ...readdirSync(join(cwd, 'host_vars')).map((h) => `host_vars/${h}`)]) seen.files[f] = readFileSync(join(cwd, f), 'utf8');
    for (const line of ndjson.split('\n')) onLine(line);
    return { exitCode, stderr };
  };
  return { spawn, seen };
}

describe('convergeSystem (replayed)', () => {
  it('renders the inventory, runs the playbook on the selected hosts and reports progress per host', async () => {
    const lab = await fixtureLab();
    const { spawn, seen } = replay('{"event":"host_task","host":"devops-01","task":"base : Install","status":"changed"}\n{"event":"stats","hosts":{"devops-01":{"ok":1,"changed":1,"failures":0,"unreachable":0,"skipped":0,"rescued":0,"ignored":0},"devops-02":{"ok":1,"changed":0,"failures":0,"unreachable":0,"skipped":0,"rescued":0,"ignored":0}}}');
    const reporter = new MemoryReporter();
    const r = await convergeSystem(lab, { targets: ['devops'], ansiblePlaybook: '/opt/ansible-playbook', spawn, reporter, env: {} });
    expect(seen.argv[0]).toBe('/opt/ansible-playbook');
    expect(seen.argv.slice(3, 7)).toEqual(['--limit', 'devops-01,devops-02', '--forks', '2']);
    expect(seen.env.ANSIBLE_STDOUT_CALLBACK).toBe('ahl_ndjson');
    expect(Object.keys(seen.files)).toEqual(['inventory.yml', 'host_vars/devops-01.yml', 'host_vars/devops-02.yml', 'host_vars/docker-01.yml']);
    // The temporary inventory folder is gone afterwards.
    expect(existsSync(seen.argv[2]!)).toBe(false);
    expect(r).toMatchObject({ ok: true, check: false, exitCode: 0 });
    expect(r.hosts.map((h) => [h.host, h.status])).toEqual([
      ['devops-01', 'changed'],
      ['devops-02', 'ok'],
    ]);
    expect(reporter.events).toEqual([{ step: 'base : Install', target: 'devops-01', status: 'changed' }]);
  });

  it('replays a recorded unreachable host as a result, not an exception', async () => {
    const lab = await fixtureLab();
    const ndjson = readFileSync(`${FIXTURES}first-converge.ndjson`, 'utf8').replaceAll('tinker-2', 'docker-01');
    const r = await convergeSystem(lab, { targets: ['docker-01'], ansiblePlaybook: 'x', spawn: replay(ndjson, 4).spawn, env: {} });
    expect(r.ok).toBe(false);
    expect(r.hosts).toEqual([expect.objectContaining({ host: 'docker-01', status: 'unreachable' })]);
  });

  it('throws a ConvergeError naming the command, its exit status and its output, secrets masked', async () => {
    const lab = await fixtureLab();
    const redactor = new Redactor();
    redactor.add('hunter2-secret');
    const err = await convergeSystem(lab, {
      targets: ['docker-01'],
      ansiblePlaybook: 'ansible-playbook',
      redactor,
      env: {},
      spawn: replay('ERROR! the role x was not found (token hunter2-secret)', 1, 'more: hunter2-secret').spawn,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConvergeError);
    const e = err as ConvergeError;
    expect(e.code).toBe('ANSIBLE_FAILED');
    expect(e.exitCode).toBe(1);
    expect(e.message).toMatch(/^ansible-playbook --inventory \S+\/inventory\.yml --limit docker-01 --forks 1 --extra-vars @\S+\/ahl-vars\.json \S+\/site\.yml exited with status 1 before it finished$/);
    expect(e.output).toBe('ERROR! the role x was not found (token ********)\nmore: ********');
  });

  it('finds ansible-playbook from AHL_ANSIBLE_PLAYBOOK, PATH or the bootstrap virtualenv, and says how to get it', () => {
    expect(findAnsiblePlaybook({ AHL_ANSIBLE_PLAYBOOK: '/x/ansible-playbook' })).toBe('/x/ansible-playbook');
    expect(() => findAnsiblePlaybook({ PATH: '/nonexistent', AHL_CACHE_DIR: '/nonexistent' })).toThrow(/ansible-playbook was not found/);
  });
});

describe('bundled content', () => {
  it('tags every role of site.yml with a tag SYSTEM_TAGS lists', () => {
    const site = readFileSync(join(ANSIBLE_DIR, 'site.yml'), 'utf8');
    // `always`: the wait for hosts `ahl up` has just created runs whatever --tags says.
    const tags = [...site.matchAll(/tags: \[(\w+)\]/g)].map((m) => m[1]).filter((t) => t !== 'always');
    expect(tags).toEqual([...SYSTEM_TAGS]);
    for (const role of readdirSync(join(ANSIBLE_DIR, 'roles'))) expect(site).toContain(`role: ${role}\n`);
  });

  it('keeps L4 out: nothing about Compose stacks or application data', () => {
    const all = readdirSync(ANSIBLE_DIR, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'))
      .join('\n');
    expect(all).not.toMatch(/compose\.ya?ml|docker compose up|docker-compose up|community\.docker|\/opt\/stacks/);
  });
});

describe('pendingReboots (replayed)', () => {
  it('runs the reboot_required playbook and reads a pending reboot from its report task', async () => {
    const lab = await fixtureLab();
    const ok = (changed: number) => ({ ok: 2, changed, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 });
    const { spawn, seen } = replay(
      [
        { event: 'host_task', host: 'devops-01', task: 'Report a pending reboot', status: 'changed' },
        { event: 'host_task', host: 'devops-02', task: 'Report a pending reboot', status: 'ok' },
        { event: 'host_task', host: 'docker-01', task: 'Look for the reboot-required flag', status: 'unreachable', msg: 'ssh: connect to host 10.0.0.3 port 22: No route to host' },
        { event: 'stats', hosts: { 'devops-01': ok(1), 'devops-02': ok(0), 'docker-01': { ...ok(0), ok: 0, unreachable: 1 } } },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
      4,
    );
    const r = await pendingReboots(lab, { ansiblePlaybook: 'x', spawn, env: {} });
    expect(seen.argv.at(-1)).toBe(join(ANSIBLE_DIR, 'reboot_required.yml'));
    expect(seen.argv).not.toContain('--check');
    expect(r).toEqual([
      { host: 'devops-01', pending: true },
      { host: 'devops-02', pending: false },
      { host: 'docker-01', message: 'ssh: connect to host 10.0.0.3 port 22: No route to host' },
    ]);
  });
});

describe('skipping hosts nothing changed for (replayed)', () => {
  /** Like replay, and keeps the extra-vars file the run was given. */
  function withVars(ndjson: string) {
    const seen: { vars?: Record<string, unknown>; argv: readonly string[] } = { argv: [] };
    const spawn: PlaybookSpawner = async (argv, { onLine }) => {
      seen.argv = argv;
      const file = argv.find((a) => a.startsWith('@'));
      if (file) seen.vars = JSON.parse(readFileSync(file.slice(1), 'utf8')) as Record<string, unknown>;
      for (const line of ndjson.split('\n')) onLine(line);
      return { exitCode: 0, stderr: '' };
    };
    return { spawn, seen };
  }
  const stats = '{"event":"stats","hosts":{"devops-01":{"ok":2,"changed":0,"failures":0,"unreachable":0,"skipped":0,"rescued":0,"ignored":0},"devops-02":{"ok":9,"changed":1,"failures":0,"unreachable":0,"skipped":0,"rescued":0,"ignored":0}}}';
  const gate = (host: string, status: string) => `{"event":"host_task","host":"${host}","task":"Skip the converge, nothing changed since the last one","status":"${status}"}`;

  it('passes each host the digest of its intent to record, and the skip only when asked; a host the gate kept is unchanged', async () => {
    const lab = await fixtureLab();
    const { spawn, seen } = withVars([gate('devops-01', 'ok'), gate('devops-02', 'skipped'), '{"event":"host_task","host":"devops-02","task":"files : Write the declared files","status":"changed"}', stats].join('\n'));
    const r = await convergeSystem(lab, { targets: ['devops'], ansiblePlaybook: 'x', spawn, env: {}, skipUnchanged: true });
    const digests = seen.vars?.ahl_digests as Record<string, string>;
    expect(Object.keys(digests)).toEqual(['devops-01', 'devops-02']);
    expect(Object.values(digests).every((d) => /^[0-9a-f]{64}$/.test(d))).toBe(true);
    expect(seen.vars?.ahl_skip_unchanged).toBe(true);
    expect(r.hosts.map((h) => [h.host, h.status, h.unchanged ?? false])).toEqual([
      ['devops-01', 'ok', true],
      ['devops-02', 'changed', false],
    ]);
    expect(Object.keys(r).sort()).toEqual(['check', 'command', 'durationMs', 'exitCode', 'hosts', 'ok']);
    // The same intent gives the same digest; ahl converge records it without skipping anything.
    const again = withVars(stats);
    await convergeSystem(lab, { targets: ['devops'], ansiblePlaybook: 'x', spawn: again.spawn, env: {} });
    expect(again.seen.vars).toEqual({ ahl_digests: digests, ahl_skip_unchanged: false });
  });

  it('records nothing and skips nothing under --check or --tags', async () => {
    const lab = await fixtureLab();
    for (const o of [{ check: true }, { tags: ['users' as const] }]) {
      const { spawn, seen } = withVars(stats);
      await convergeSystem(lab, { targets: ['devops'], ansiblePlaybook: 'x', spawn, env: {}, skipUnchanged: true, ...o });
      expect(seen.vars).toBeUndefined();
      expect(seen.argv.some((a) => a.startsWith('@'))).toBe(false);
    }
  });
});
