import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ahl, exampleLabCopy } from './helpers.js';

// A copy: converges remember their results (and take the lock) in the lab's .ahl folder.
const LAB = exampleLabCopy();

/** A stand-in ansible-playbook that prints recorded NDJSON events and exits with `code`. */
function fakePlaybook(lines: object[], code = 0): string {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-cli-fake-ansible-'));
  const data = join(dir, 'events.ndjson');
  writeFileSync(data, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const bin = join(dir, 'ansible-playbook');
  writeFileSync(bin, `#!/bin/sh\ncat '${data}'\nexit ${code}\n`);
  chmodSync(bin, 0o755);
  return bin;
}

const counts = (changed: number) => ({ ok: 5, changed, failures: 0, unreachable: 0, skipped: 1, rescued: 0, ignored: 0 });
const stats = (changed: number) => ({ event: 'stats', hosts: { 'devops-01': counts(changed) } });

describe('ahl converge system (stand-in ansible-playbook)', () => {
  it('converges a persona (its VM and its bare-metal host alike) with live per-host progress, exit 0', async () => {
    const bin = fakePlaybook([
      { event: 'host_task', host: 'devops-01', task: 'users : Create the declared users', status: 'changed' },
      { event: 'stats', hosts: { 'devops-01': counts(1), 'devops-nuc': counts(0) } },
    ]);
    const r = await ahl(['converge', 'system', 'devops'], { cwd: LAB, env: { AHL_ANSIBLE_PLAYBOOK: bin } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      [
        'converging 2 hosts: devops-01, devops-nuc',
        '  devops-01  changed  users : Create the declared users',
        '✓ devops-01  ok=5 changed=1 failed=0 skipped=1',
        '✓ devops-nuc  ok=5 changed=0 failed=0 skipped=1',
        'converged 2 hosts',
        '',
      ].join('\n'),
    );
  });

  it('--check --json reports drift with its diff and exits 1', async () => {
    const bin = fakePlaybook([{ event: 'host_task', host: 'devops-01', task: 'files : Write the declared files', status: 'changed', diff: '-x\n+y\n' }, stats(1)]);
    const r = await ahl(['converge', 'system', 'devops-01', '--check', '--json'], { cwd: LAB, env: { AHL_ANSIBLE_PLAYBOOK: bin } });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { ok: boolean; check: boolean; hosts: { host: string; status: string; changed: unknown[] }[] };
    expect(doc).toMatchObject({ ok: false, check: true, hosts: [{ host: 'devops-01', status: 'changed', changed: [{ task: 'files : Write the declared files', diff: '-x\n+y\n' }] }] });
    expect(r.stderr).toContain('drift found; nothing was changed');
  });

  it('names the command and its exit status when ansible-playbook cannot run, exit 2', async () => {
    const bin = fakePlaybook([], 5);
    const r = await ahl(['converge', 'system', 'devops'], { cwd: LAB, env: { AHL_ANSIBLE_PLAYBOOK: bin } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^ANSIBLE_FAILED: \S+ansible-playbook --inventory .* exited with status 5 before it finished$/m);
  });

  it('refuses an unknown target or tag as usage errors (exit 2)', async () => {
    expect((await ahl(['converge', 'system', 'nope'], { cwd: LAB })).code).toBe(2);
    const r = await ahl(['converge', 'system', '--tags', 'users,nope'], { cwd: LAB });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown tag "nope"');
  });
});
