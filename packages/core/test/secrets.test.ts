import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AhlError, Redactor, Secrets, isSecretRef, type SecretSource } from '../src/index.js';

describe('secret references', () => {
  it('recognises env:, file: and sops: references only', () => {
    expect(isSecretRef('env:PM_TOKEN_SECRET')).toBe(true);
    expect(isSecretRef('file:secrets/token')).toBe(true);
    expect(isSecretRef('sops:secrets/lab.sops.yaml#proxmox.token_secret')).toBe(true);
    expect(isSecretRef('sops:~/lab.sops.json#users.0.password')).toBe(true);
    expect(isSecretRef('sops:/abs/lab.sops.yaml#key')).toBe(true);
    expect(isSecretRef('sops:secrets/lab.sops.yaml')).toBe(false);
    expect(isSecretRef('sops:secrets/lab.sops.yaml#')).toBe(false);
    expect(isSecretRef('sops:secrets/lab.sops.yaml#a..b')).toBe(false);
    expect(isSecretRef('sops:#key')).toBe(false);
    expect(isSecretRef('env:1BAD')).toBe(false);
    expect(isSecretRef('hunter2')).toBe(false);
    expect(isSecretRef('vault:x')).toBe(false);
  });

  it('resolves from the environment and registers the value for masking', () => {
    const s = new Secrets({ env: { TOKEN: 'abc-123-secret' }, baseDir: '/' });
    expect(s.resolve('env:TOKEN')).toBe('abc-123-secret');
    expect(s.redactor.redact('Authorization: PVEAPIToken=ahl@pve!ahl=abc-123-secret')).toBe('Authorization: PVEAPIToken=ahl@pve!ahl=********');
  });

  it('resolves from a file relative to the lab root, without the trailing newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-secret-'));
    writeFileSync(join(dir, 'token'), 'from-a-file\n');
    const s = new Secrets({ env: {}, baseDir: dir });
    expect(s.resolve('file:token')).toBe('from-a-file');
  });

  it('resolves only when asked: a missing secret fails then, naming the reference, never a value', () => {
    const s = new Secrets({ env: { OTHER: 'x' }, baseDir: '/nonexistent' });
    for (const ref of ['env:PM_TOKEN_SECRET', 'file:nope/token']) {
      let caught: unknown;
      try {
        s.resolve(ref, 'proxmox.tokenSecret');
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(AhlError);
      expect((caught as AhlError).code).toBe('SECRET_MISSING');
      expect((caught as AhlError).message).toBe(`secret ${ref} (for proxmox.tokenSecret) is not set`);
    }
  });

  it('refuses a literal where a reference belongs without repeating it', () => {
    const s = new Secrets({ env: {}, baseDir: '/' });
    expect(() => s.resolve('plaintextpassword')).toThrowError(/"…" is not a secret reference/);
  });
});

function caught(f: () => unknown): AhlError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AhlError);
    return e as AhlError;
  }
  throw new Error('expected an AhlError');
}

describe('sops: references (parsing and lookup, with sops stubbed)', () => {
  const doc = {
    proxmox: { token_secret: 'tok-5ecret-value', port: 8006, empty: '', nested: { deep: 'deep-value' } },
    users: [{ name: 'ada', password: 'ada-pa55word' }, 'second-entry'],
  };
  function stubbed(documents: Record<string, unknown> = { '/lab/secrets/lab.sops.yaml': doc }) {
    const runs: string[] = [];
    const source: SecretSource = {
      env: {},
      baseDir: '/lab',
      runSops: (path) => {
        runs.push(path);
        if (!(path in documents)) throw Object.assign(new Error('Command failed'), { stderr: 'Error: cannot operate on non-existent file\n' });
        return JSON.stringify(documents[path]);
      },
    };
    return { secrets: new Secrets(source), runs };
  }

  it('follows dotted keys and array indices, turns numbers into strings, and decrypts each file once', () => {
    const { secrets, runs } = stubbed();
    expect(secrets.resolve('sops:secrets/lab.sops.yaml#proxmox.token_secret')).toBe('tok-5ecret-value');
    expect(secrets.resolve('sops:secrets/lab.sops.yaml#proxmox.nested.deep')).toBe('deep-value');
    expect(secrets.resolve('sops:secrets/lab.sops.yaml#users.0.password')).toBe('ada-pa55word');
    expect(secrets.resolve('sops:secrets/lab.sops.yaml#users.1')).toBe('second-entry');
    expect(secrets.resolve('sops:secrets/lab.sops.yaml#proxmox.port')).toBe('8006');
    expect(secrets.resolve('sops:/lab/secrets/lab.sops.yaml#proxmox.token_secret')).toBe('tok-5ecret-value');
    expect(runs).toEqual(['/lab/secrets/lab.sops.yaml']);
  });

  it('registers every value with the redactor', () => {
    const { secrets } = stubbed();
    secrets.resolve('sops:secrets/lab.sops.yaml#proxmox.token_secret');
    secrets.resolve('sops:secrets/lab.sops.yaml#users.0.password');
    expect(secrets.redactor.redact('token tok-5ecret-value, password ada-pa55word')).toBe('token ********, password ********');
  });

  it('refuses objects, arrays, missing and empty values as SECRET_MISSING naming the ref, never a value', () => {
    const { secrets } = stubbed();
    for (const key of ['proxmox', 'users', 'proxmox.nested', 'proxmox.nope', 'proxmox.empty', 'users.7', 'users.x', 'proxmox.token_secret.more', 'toString']) {
      const ref = `sops:secrets/lab.sops.yaml#${key}`;
      const e = caught(() => secrets.resolve(ref, 'proxmox.tokenSecret'));
      expect(e.code).toBe('SECRET_MISSING');
      expect(e.message).toBe(`secret ${ref} (for proxmox.tokenSecret) is not set`);
      expect(JSON.stringify(e.toJSON())).not.toMatch(/tok-5ecret-value|ada-pa55word|deep-value/);
    }
  });

  it('says SOPS_FAILED with sops\'s first stderr line, masked, when sops fails', () => {
    const { secrets } = stubbed();
    secrets.resolve('sops:secrets/lab.sops.yaml#proxmox.token_secret');
    const e = caught(() => secrets.resolve('sops:secrets/other.sops.yaml#a'));
    expect(e.code).toBe('SOPS_FAILED');
    expect(e.message).toBe('secret sops:secrets/other.sops.yaml#a cannot be resolved: sops failed: cannot operate on non-existent file');
    expect(e.hint).toContain('SOPS_AGE_KEY_FILE');

    const leaky = new Secrets({
      env: { T: 'known-secret' },
      baseDir: '/lab',
      runSops: () => {
        throw Object.assign(new Error('x'), { stderr: '\n\nMAC mismatch near known-secret\nmore\n' });
      },
    });
    leaky.resolve('env:T');
    expect(caught(() => leaky.resolve('sops:s.yaml#a')).message).toBe('secret sops:s.yaml#a cannot be resolved: sops failed: MAC mismatch near ********');
  });

  it('says SOPS_UNAVAILABLE when sops is neither on PATH nor in the ahl cache', () => {
    const lab = mkdtempSync(join(tmpdir(), 'ahl-sops-lab-'));
    writeFileSync(join(lab, 'lab.sops.yaml'), 'a: ENC[...]\n');
    const emptyCache = mkdtempSync(join(tmpdir(), 'ahl-sops-cache-'));
    const emptyPath = mkdtempSync(join(tmpdir(), 'ahl-sops-path-'));
    const s = new Secrets({ env: { PATH: emptyPath, AHL_CACHE_DIR: emptyCache }, baseDir: lab });
    const e = caught(() => s.resolve('sops:lab.sops.yaml#a', 'proxmox.tokenSecret'));
    expect(e.code).toBe('SOPS_UNAVAILABLE');
    expect(e.message).toBe('secret sops:lab.sops.yaml#a (for proxmox.tokenSecret) cannot be resolved: sops was not found');
    expect(e.hint).toContain('bash scripts/bootstrap');
    // A file that is not there is a missing secret, as for file:, before sops is looked for.
    expect(caught(() => s.resolve('sops:absent.sops.yaml#a')).code).toBe('SECRET_MISSING');
  });
});

describe('Redactor', () => {
  it('masks every occurrence, longest secret first, and common encodings', () => {
    const r = new Redactor();
    r.add('pa ss/word');
    r.add('pa');
    const text = 'a=pa ss/word b=pa c=pa%20ss%2Fword d=' + Buffer.from('pa ss/word').toString('base64');
    expect(r.redact(text)).toBe('a=******** b=******** c=******** d=********');
  });

  it('masks inside nested values and leaves text alone when empty', () => {
    const r = new Redactor();
    expect(r.redact('nothing to hide')).toBe('nothing to hide');
    r.add('s3cr3t');
    expect(r.redactDeep({ a: ['x s3cr3t'], b: { c: 's3cr3t' }, n: 1 })).toEqual({ a: ['x ********'], b: { c: '********' }, n: 1 });
  });

  it('treats regex characters in secrets literally', () => {
    const r = new Redactor();
    r.add('a.b*c');
    expect(r.redact('axbbc a.b*c')).toBe('axbbc ********');
  });
});
