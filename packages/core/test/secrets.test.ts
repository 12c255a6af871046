import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AhlError, Redactor, Secrets, isSecretRef } from '../src/index.js';

describe('secret references', () => {
  it('recognises env: and file: references only', () => {
    expect(isSecretRef('env:PM_TOKEN_SECRET')).toBe(true);
    expect(isSecretRef('file:secrets/token')).toBe(true);
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
