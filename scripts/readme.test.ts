import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(REPO, 'README.md'), 'utf8');

/** Every line of the README's shell code blocks. */
function shellLines(): string[] {
  return [...README.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n')).filter((l) => l.trim() && !l.trim().startsWith('#'));
}

/**
 * A folder of stand-ins for the commands a script runs, and nothing else: PATH is this folder alone,
 * so the machine's own sudo (or its absence) cannot change the outcome. `id` says `uid`; a stand-in
 * records its argv in calls.log.
 */
function standIns(uid: number, withSudo: boolean): { bin: string; log: string; home: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-root-steps-'));
  const bin = join(dir, 'bin');
  const home = join(dir, 'home');
  mkdirSync(bin);
  mkdirSync(home);
  const log = join(dir, 'calls.log');
  const script = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  const record = (name: string) => `echo "${name} $*" >> ${log}`;
  script('id', `case "$1" in -u|-g) echo ${uid};; *) echo "uid=${uid}";; esac`);
  script('node', `echo 20.19.0`);
  script('pnpm', `if [ "$1" = --version ]; then echo 12.4.2; else ${record('pnpm')}; fi`);
  script('dpkg', 'exit 0');
  script('dpkg-query', 'exit 1');
  script('apt-get', record('apt-get'));
  // sudo runs what it is given (as the stand-in id still says uid, a recursive script would loop: record only for bash).
  if (withSudo) script('sudo', `${record('sudo')}\n[ "$1" = -- ] && shift\ncase "$*" in *bash*) exit 0;; esac\nexec "$@"`);
  for (const tool of ['dirname', 'sh', 'env']) {
    const real = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(real, join(bin, tool));
  }
  return { bin, log, home };
}

const run = (script: string, s: { bin: string; home: string }, env: Record<string, string> = {}) =>
  spawnSync('/bin/bash', [join(REPO, script)], { encoding: 'utf8', env: { PATH: s.bin, HOME: s.home, ...env } });
const calls = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);

describe('the README\'s commands run as a new user runs them', () => {
  it('asks for root in no command: a machine whose only user is root may have no sudo', () => {
    const lines = shellLines();
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(line, line).not.toMatch(/(^|[;&|]\s*)sudo\s/);
  });

  it('names only scripts that exist', () => {
    for (const [, path] of README.matchAll(/bash (scripts\/[\w.-]+)/g)) expect(existsSync(join(REPO, path!)), path).toBe(true);
  });
});

describe('scripts/bootstrap\'s one root step: the system packages', () => {
  it('as root, runs apt-get itself', () => {
    const s = standIns(0, false);
    const r = run('scripts/bootstrap', s);
    expect(r.status, r.stderr).toBe(0);
    const apt = calls(s.log).filter((l) => l.startsWith('apt-get'));
    expect(apt[0]).toBe('apt-get update -qq');
    expect(apt[1]).toMatch(/^apt-get install -y -qq --no-install-recommends git openssh-client .*socat python3-venv$/);
    expect(calls(s.log).some((l) => l.startsWith('sudo'))).toBe(false);
  });

  it('as another user, runs apt-get through sudo and says why', () => {
    const s = standIns(1000, true);
    const r = run('scripts/bootstrap', s);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('bootstrap: installing the system packages needs root (apt-get installs into the system): running it with sudo');
    expect(calls(s.log)[0]).toMatch(/^sudo -- sh -c apt-get update -qq && .* sh git openssh-client /);
    expect(calls(s.log)[1]).toBe('apt-get update -qq');
  });

  it('as another user without sudo, stops at that step, naming it, why and what to do', () => {
    const s = standIns(1000, false);
    const r = run('scripts/bootstrap', s);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bootstrap: installing the system packages needs root (apt-get installs into the system), and this user is not root and sudo is not installed');
    expect(r.stderr).toMatch(/run it as root \(for example: su -c 'bash .*scripts\/bootstrap'\), or install sudo, or install them yourself \(apt-get install git .*\), or set AHL_SKIP_SYSTEM_PACKAGES=1 to go on without them/);
    expect(calls(s.log)).toEqual([]);
    // AHL_SKIP_SYSTEM_PACKAGES goes on without them.
    const skipped = run('scripts/bootstrap', s, { AHL_SKIP_SYSTEM_PACKAGES: '1' });
    expect(skipped.status, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain('bootstrap: AHL_SKIP_SYSTEM_PACKAGES is set: not installing git');
    expect(calls(s.log).some((l) => l.startsWith('apt-get'))).toBe(false);
  });
});

describe('scripts/local-lab-demo needs root for the local lab', () => {
  it('as another user, runs itself again through sudo with this user\'s PATH and ahl cache', () => {
    const s = standIns(1000, true);
    const r = run('scripts/local-lab-demo', s);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('local-lab-demo: the local lab needs root (network namespaces, bridges and taps for its guests, and debootstrap for their image): running it with sudo');
    expect(calls(s.log)).toEqual([
      `sudo -- env PATH=${s.bin} AHL_CACHE_DIR=${s.home}/.cache/ahl PYTHONDONTWRITEBYTECODE=1 AHL_DEMO_OWNER=1000:1000 bash ${join(REPO, 'scripts/local-lab-demo')}`,
    ]);
  });

  it('as another user without sudo, stops and says to run it as root', () => {
    const s = standIns(1000, false);
    const r = run('scripts/local-lab-demo', s);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('local-lab-demo: the local lab needs root (network namespaces, bridges and taps for its guests, and debootstrap for their image), and this user is not root and sudo is not installed');
    expect(r.stderr).toMatch(/local-lab-demo: run it as root \(for example: su -c 'bash .*scripts\/local-lab-demo'\), or install sudo\n/);
  });
});
