import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ahl, exampleLabCopy } from './helpers.js';

// A copy: converges remember their results (and take the lock) in the lab's .ahl folder.
const LAB = exampleLabCopy();

/**
 * A stand-in ansible-playbook: prints recorded NDJSON events, writes the content's per-host report
 * (into reports/ beside the inventory it is given, as the real playbooks do) and exits with `code`.
 */
function fakePlaybook(lines: object[], reports: Record<string, object>, code = 0): string {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-cli-fake-ansible-l4-'));
  writeFileSync(join(dir, 'events.ndjson'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  for (const [h, r] of Object.entries(reports)) writeFileSync(join(dir, `${h}.json`), JSON.stringify(r));
  const bin = join(dir, 'ansible-playbook');
  writeFileSync(
    bin,
    `#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = --inventory ] && inv="$2"; shift; done
out="$(dirname "$inv")/reports"
for f in '${dir}'/*.json; do [ -e "$f" ] && cp "$f" "$out/"; done
cat '${dir}/events.ndjson'
exit ${code}
`,
  );
  chmodSync(bin, 0o755);
  return bin;
}

const stats = (changed: number) => ({ event: 'stats', hosts: { 'docker-01': { ok: 20, changed, failures: 0, unreachable: 0, skipped: 2, rescued: 0, ignored: 0 } } });

describe('ahl converge workload (stand-in ansible-playbook)', { timeout: 30_000 }, () => {
  it('deploys a host\'s stacks, says what each did and lists stacks no longer declared', async () => {
    const bin = fakePlaybook([stats(3)], {
      'docker-01': {
        stacks: [
          { name: 'whoami', changed: true, action: 'recreate', containers: ['/whoami-whoami-1 running none'] },
          { name: 'uptime-kuma', changed: false, action: 'none', containers: ['/uptime-kuma-uptime-kuma-1 running healthy'] },
        ],
        orphans: ['old'],
        removed: [],
        compose: 'docker compose',
      },
    });
    const r = await ahl(['converge', 'workload', 'docker-01'], { cwd: LAB, env: { AHL_ANSIBLE_PLAYBOOK: bin } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('✓ docker-01  (docker compose)');
    expect(r.stderr).toContain('    whoami  updated  /whoami-whoami-1 running none');
    expect(r.stderr).toContain('    uptime-kuma  unchanged');
    expect(r.stderr).toContain('no longer declared: old (run with --approve to remove; data stays)');
  });

  it('--check --json exits 1 when something would change', async () => {
    const bin = fakePlaybook([stats(1)], { 'docker-01': { stacks: [{ name: 'whoami', changed: true, action: 'recreate', containers: [] }], orphans: [], removed: [], compose: 'docker-compose' } });
    const r = await ahl(['converge', 'workload', 'docker-01', '--check', '--json'], { cwd: LAB, env: { AHL_ANSIBLE_PLAYBOOK: bin } });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, check: true, hosts: [{ host: 'docker-01', status: 'changed' }] });
  });

  it('refuses an unknown stack as wrong usage', async () => {
    const r = await ahl(['converge', 'workload', 'docker-01', '--stack', 'nope'], { cwd: LAB, env: { AHL_ANSIBLE_PLAYBOOK: '/bin/false' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no selected host runs stack "nope"');
  });
});

describe('ahl backup and ahl restore (stand-in ansible-playbook)', { timeout: 30_000 }, () => {
  const rec = { host: 'docker-01', id: '20261126T031500Z', time: '2026-11-26T03:15:00Z', finished: '2026-11-26T03:15:05Z', status: 'ok', size: 4096, files: 3, digest: `sha256:${'c'.repeat(64)}`, target: 'rsync://backup@nas.lab.example:22/mnt/tank/backups/ahl/docker-01' };

  it('backs a host up now and prints the record', async () => {
    const bin = fakePlaybook([stats(1)], { 'docker-01': { rc: 0, stdout: JSON.stringify(rec), stderr: '' } });
    const r = await ahl(['backup', 'docker-01', '--json'], { cwd: LAB, env: { AHL_ANSIBLE_PLAYBOOK: bin } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`✓ docker-01  snapshot 20261126T031500Z  4096 bytes in 3 files  sha256:${'c'.repeat(64)}`);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, hosts: [{ host: 'docker-01', status: 'ok', record: rec }] });
  });

  it('--status says a backup is stale and exits 1', async () => {
    const bin = fakePlaybook([stats(0)], { 'docker-01': { rc: 0, stdout: `last\t${JSON.stringify({ ...rec, finished: '2000-01-01T00:00:00Z' })}\n`, stderr: '' } });
    const r = await ahl(['backup', 'docker-01', '--status'], { cwd: LAB, env: { AHL_ANSIBLE_PLAYBOOK: bin } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/✗ docker-01 {2}last good backup: 20261126T031500Z \(\d+d ago/);
  });

  it('a restore over data that is there is refused without --approve, exit 1', async () => {
    const bin = fakePlaybook([stats(0)], { 'docker-01': { rc: 3, stdout: '', stderr: 'refusing to restore over data that is there already: /srv/whoami/data (approve to overwrite)' } });
    const r = await ahl(['restore', 'docker-01'], { cwd: LAB, env: { AHL_ANSIBLE_PLAYBOOK: bin } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('✗ docker-01  refused: refusing to restore over data that is there already: /srv/whoami/data');
  });

  it('restore needs a host', async () => {
    const r = await ahl(['restore'], { cwd: LAB, env: {} });
    expect(r.code).toBe(2);
  });
});
