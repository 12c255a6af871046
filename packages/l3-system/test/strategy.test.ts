import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acceptNewSshWrapper, ansibleEnv, chooseStrategy, mitogenPluginDir } from '../src/index.js';

/** A prefix laid out like a virtualenv (bin/ beside lib/pythonX.Y/site-packages), mitogen optional. */
function prefix(o: { mitogen?: boolean; packages?: string; python?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-l3-strategy-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'ansible-playbook'), '#!/bin/sh\n');
  const strategy = join(dir, 'lib', o.python ?? 'python3.11', o.packages ?? 'site-packages', 'ansible_mitogen', 'plugins', 'strategy');
  mkdirSync(strategy, { recursive: true });
  if (o.mitogen !== false) writeFileSync(join(strategy, 'mitogen_linear.py'), '');
  return dir;
}

describe('chooseStrategy', () => {
  it('uses mitogen when it is installed beside ansible-playbook', () => {
    const dir = prefix();
    expect(chooseStrategy(join(dir, 'bin', 'ansible-playbook'), {})).toEqual({ name: 'mitogen_linear', pluginDir: join(dir, 'lib/python3.11/site-packages/ansible_mitogen/plugins/strategy') });
  });

  it("finds a distribution's dist-packages, and follows a symlinked ansible-playbook to its prefix", () => {
    const dir = prefix({ packages: 'dist-packages', python: 'python3' });
    const link = join(mkdtempSync(join(tmpdir(), 'ahl-l3-link-')), 'ansible-playbook');
    symlinkSync(join(dir, 'bin', 'ansible-playbook'), link);
    expect(mitogenPluginDir(link)).toBe(join(dir, 'lib/python3/dist-packages/ansible_mitogen/plugins/strategy'));
  });

  it("falls back to Ansible's linear strategy without mitogen, or when AHL_ANSIBLE_STRATEGY=linear", () => {
    expect(chooseStrategy(join(prefix({ mitogen: false }), 'bin', 'ansible-playbook'), {})).toEqual({ name: 'linear' });
    expect(chooseStrategy(join(prefix(), 'bin', 'ansible-playbook'), { AHL_ANSIBLE_STRATEGY: 'linear' })).toEqual({ name: 'linear' });
    expect(chooseStrategy('/nonexistent/bin/ansible-playbook', {})).toEqual({ name: 'linear' });
  });

  it('refuses mitogen asked for but missing, and an unknown strategy', () => {
    expect(() => chooseStrategy(join(prefix({ mitogen: false }), 'bin', 'ansible-playbook'), { AHL_ANSIBLE_STRATEGY: 'mitogen' })).toThrow(/AHL_ANSIBLE_STRATEGY is mitogen, but no mitogen package was found beside/);
    expect(() => chooseStrategy('ansible-playbook', { AHL_ANSIBLE_STRATEGY: 'free' })).toThrow(/AHL_ANSIBLE_STRATEGY is "free"/);
  });
});

describe('ansibleEnv with a strategy', () => {
  const base = { contentDir: '/pkg/ansible', inventoryDir: '/tmp/ahl-l3-x' };
  it("adds mitogen's plugins and the ssh wrapper; Ansible's linear strategy adds nothing", () => {
    expect(ansibleEnv({ ...base, strategy: { name: 'mitogen_linear', pluginDir: '/venv/strategy' }, sshExecutable: '/tmp/ahl-l3-x/ssh-accept-new' })).toMatchObject({
      ANSIBLE_SSH_EXECUTABLE: '/tmp/ahl-l3-x/ssh-accept-new',
      ANSIBLE_STRATEGY: 'mitogen_linear',
      ANSIBLE_STRATEGY_PLUGINS: '/venv/strategy',
      // Its bootstrap (SSH, then Python on the host) counts in the timeout.
      ANSIBLE_TIMEOUT: '60',
    });
    expect(Object.keys(ansibleEnv({ ...base, strategy: { name: 'linear' } }))).not.toContain('ANSIBLE_STRATEGY');
  });
});

describe('acceptNewSshWrapper (stand-in ssh)', () => {
  it("turns mitogen's StrictHostKeyChecking yes into accept-new and passes every other argument unchanged", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-l3-wrapper-'));
    const wrapper = join(dir, 'ssh-accept-new');
    writeFileSync(wrapper, acceptNewSshWrapper());
    chmodSync(wrapper, 0o700);
    // A stand-in ssh first on PATH prints the arguments it was given, one per line.
    writeFileSync(join(dir, 'ssh'), '#!/bin/sh\nfor a do printf "%s\\n" "$a"; done\n');
    chmodSync(join(dir, 'ssh'), 0o700);
    const args = ['-o', 'StrictHostKeyChecking yes', '-o', 'UserKnownHostsFile=/k h', 'host', "it's", '$(id)', ''];
    const out = execFileSync(wrapper, args, { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin` } });
    expect(out).toBe(['-o', 'StrictHostKeyChecking accept-new', '-o', 'UserKnownHostsFile=/k h', 'host', "it's", '$(id)', '', ''].join('\n'));
  });
});
