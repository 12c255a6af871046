import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import { AhlError, Secrets, findSops } from '../src/index.js';

/*
 * sops: references against the real sops and age (scripts/bootstrap builds both into
 * ~/.cache/ahl/bin with Go). When they are not installed: skipped, saying why; under CI, a failure.
 */

const sops = findSops(process.env);
const ageKeygen = sops ? findTool('age-keygen', [dirname(sops)]) : undefined;
const needs = prerequisites([
  !sops && 'sops (on PATH or in ~/.cache/ahl/bin: bash scripts/bootstrap builds it, which needs go)',
  sops && !ageKeygen && 'age-keygen (on PATH or next to sops: bash scripts/bootstrap builds it, which needs go)',
]);

function findTool(name: string, extra: string[]): string | undefined {
  for (const dir of [...extra, ...(process.env.PATH ?? '').split(delimiter)].filter((d) => d !== '')) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

const SECRET = 'n3sted-s0ps-secret-value';

needs.describe('sops: references with the real sops', () => {
  let dir: string;
  let env: Record<string, string>;
  let wrongKeyEnv: Record<string, string>;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ahl-sops-'));
    // Only what the test gives: PATH with sops first, HOME in the temp dir (no ~/.config/sops keys).
    const base = { PATH: `${dirname(sops!)}${delimiter}${process.env.PATH ?? ''}`, HOME: dir };
    execFileSync(ageKeygen!, ['-o', join(dir, 'key.txt')], { stdio: 'pipe' });
    execFileSync(ageKeygen!, ['-o', join(dir, 'wrong-key.txt')], { stdio: 'pipe' });
    const recipient = /public key: (age1\w+)/.exec(readFileSync(join(dir, 'key.txt'), 'utf8'))![1]!;
    writeFileSync(join(dir, 'plain.yaml'), `a:\n  b: ${SECRET}\n  n: 42\nlist:\n  - first\n`);
    // Run in the temp dir with the recipient given: no .sops.yaml creation rule is consulted.
    const encrypted = execFileSync(
      sops!,
      ['--encrypt', '--age', recipient, '--input-type', 'yaml', '--output-type', 'yaml', '--filename-override', 'lab.sops.yaml', 'plain.yaml'],
      { cwd: dir, env: base, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    writeFileSync(join(dir, 'lab.sops.yaml'), encrypted);
    rmSync(join(dir, 'plain.yaml'));
    env = { ...base, SOPS_AGE_KEY_FILE: join(dir, 'key.txt') };
    wrongKeyEnv = { ...base, SOPS_AGE_KEY_FILE: join(dir, 'wrong-key.txt') };
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('decrypts the value with the key from SOPS_AGE_KEY_FILE and masks it', () => {
    expect(readFileSync(join(dir, 'lab.sops.yaml'), 'utf8')).not.toContain(SECRET);
    const secrets = new Secrets({ env, baseDir: dir });
    expect(secrets.resolve('sops:lab.sops.yaml#a.b')).toBe(SECRET);
    expect(secrets.resolve('sops:lab.sops.yaml#a.n')).toBe('42');
    expect(secrets.resolve('sops:lab.sops.yaml#list.0')).toBe('first');
    expect(secrets.redactor.redact(`token=${SECRET}`)).toBe('token=********');
  });

  it('names the ref, never the value, when a key is missing', () => {
    const secrets = new Secrets({ env, baseDir: dir });
    const ref = 'sops:lab.sops.yaml#a.nope';
    const e = catchAhl(() => secrets.resolve(ref, 'proxmox.tokenSecret'));
    expect(e.code).toBe('SECRET_MISSING');
    expect(e.message).toBe(`secret ${ref} (for proxmox.tokenSecret) is not set`);
    expect(JSON.stringify(e.toJSON())).not.toContain(SECRET);
  });

  it('says SOPS_FAILED with sops\'s reason, and no value, when the key does not fit', () => {
    const secrets = new Secrets({ env: wrongKeyEnv, baseDir: dir });
    const e = catchAhl(() => secrets.resolve('sops:lab.sops.yaml#a.b'));
    expect(e.code).toBe('SOPS_FAILED');
    expect(e.message).toMatch(/^secret sops:lab\.sops\.yaml#a\.b cannot be resolved: sops failed: \S/);
    expect(e.hint).toContain('SOPS_AGE_KEY_FILE');
    expect(JSON.stringify(e.toJSON())).not.toContain(SECRET);
  });
});

function catchAhl(f: () => unknown): AhlError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AhlError);
    return e as AhlError;
  }
  throw new Error('expected an AhlError');
}
