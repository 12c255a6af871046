import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretEncodings } from '../../../test-support/secret-sweep.js';
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

  // Every character class that an encoder treats differently: quote, backslash, control, space,
  // `/ + &`, Go's HTML escapes `< > &`, encodeURIComponent's `~ ! * ' ( )`, BMP and astral non-ASCII.
  const SECRET = 'p@ss "w\\rd" é€🔑/+&<>~!*\'()\t';
  const bytes = Buffer.from(SECRET, 'utf8');
  // Recorded from the tools themselves: Python 3 (json.dumps, urllib.parse.quote/quote_plus with
  // safe='') and Go 1 (encoding/json Marshal, net/url QueryEscape and PathEscape).
  const encodings: [string, string][] = [
    ['as written', SECRET],
    ['JSON.stringify', JSON.stringify(SECRET).slice(1, -1)],
    ['JSON.stringify twice (JSON inside a JSON string)', JSON.stringify(JSON.stringify(SECRET)).slice(3, -3)],
    ['Python json.dumps (ASCII only: \\u escapes, surrogate pairs)', String.raw`p@ss \"w\\rd\" \u00e9\u20ac\ud83d\udd11/+&<>~!*'()\t`],
    ['Python json.dumps twice', String.raw`p@ss \\\"w\\\\rd\\\" \\u00e9\\u20ac\\ud83d\\udd11/+&<>~!*'()\\t`],
    ['Python json.dumps, uppercase hex', String.raw`p@ss \"w\\rd\" \u00E9\u20AC\uD83D\uDD11/+&<>~!*'()\t`],
    ['Go encoding/json (HTML-safe \\u0026 \\u003c \\u003e)', String.raw`p@ss \"w\\rd\" é€🔑/+\u0026\u003c\u003e~!*'()\t`],
    ['JSON with \\/ for /', JSON.stringify(SECRET).slice(1, -1).replace('/', '\\/')],
    ['encodeURIComponent', encodeURIComponent(SECRET)],
    ['form encoding (URLSearchParams, + for space)', new URLSearchParams({ p: SECRET }).toString().slice(2)],
    ['Python quote (RFC 3986)', 'p%40ss%20%22w%5Crd%22%20%C3%A9%E2%82%AC%F0%9F%94%91%2F%2B%26%3C%3E~%21%2A%27%28%29%09'],
    ['Python quote_plus, Go url.QueryEscape', 'p%40ss+%22w%5Crd%22+%C3%A9%E2%82%AC%F0%9F%94%91%2F%2B%26%3C%3E~%21%2A%27%28%29%09'],
    ['Go url.PathEscape', 'p@ss%20%22w%5Crd%22%20%C3%A9%E2%82%AC%F0%9F%94%91%2F+&%3C%3E~%21%2A%27%28%29%09'],
    ['percent-encoding with lowercase hex', encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['hex, lowercase', bytes.toString('hex')],
    ['hex, uppercase', bytes.toString('hex').toUpperCase()],
    ['base64', bytes.toString('base64')],
    ['base64 without padding', bytes.toString('base64').replace(/=+$/, '')],
    ['base64url', bytes.toString('base64url')],
  ];

  it.each(encodings)('masks the secret written %s, whole', (_, form) => {
    const r = new Redactor();
    r.add(SECRET);
    expect(r.redact(`before "${form}" after`)).toBe('before "********" after');
  });

  /*
   * A secret inside a longer base64 value starts 0, 1 or 2 bytes into a 3-byte group. Every
   * character made of the secret's bits alone must be masked; only the character shared with a
   * neighbouring byte may stay (and padding, when the secret does not end the value).
   */
  const offsets = [0, 1, 2, 3, 4, 5].flatMap((before) =>
    [0, 1, 2].flatMap((after) =>
      (['base64', 'base64url'] as const).flatMap((alphabet) => [true, false].map((padded) => ({ before, after, alphabet, padded }))),
    ),
  );
  it.each(offsets)('masks it in base64 at byte offset $before (mod 3), $after bytes after, $alphabet, padded: $padded', ({ before, after, alphabet, padded }) => {
    const r = new Redactor();
    r.add(SECRET);
    const prefix = 'ahl:'.slice(0, before).padEnd(before, '!');
    const value = Buffer.concat([Buffer.from(prefix), bytes, Buffer.from('xy'.slice(0, after))]);
    let encoded = value.toString('base64');
    if (alphabet === 'base64url') encoded = encoded.replace(/\+/g, '-').replace(/\//g, '_');
    if (!padded) encoded = encoded.replace(/=+$/, '');
    const masked = r.redact(`Authorization: Basic ${encoded}\n`);
    const body = masked.slice('Authorization: Basic '.length, -1);
    const at = body.indexOf(Redactor.MASK);
    expect(at, body).toBeGreaterThanOrEqual(0);
    const kept = body.length - at - Redactor.MASK.length;
    expect(encoded.slice(0, at) + Redactor.MASK + encoded.slice(encoded.length - kept)).toBe(body);
    // Masked from the first character wholly of the secret's bits to the last.
    expect(at).toBeLessThanOrEqual(Math.ceil((before * 8) / 6));
    expect(encoded.length - kept).toBeGreaterThanOrEqual(Math.floor(((before + bytes.length) * 8) / 6));
  });

  it('masks an HTTP Basic credential as curl and fetch send it', () => {
    const r = new Redactor();
    r.add('3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c');
    for (const user of ['a', 'ab', 'abc', 'root@pam']) {
      const header = `Basic ${Buffer.from(`${user}:3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c`).toString('base64')}`;
      expect(r.redact(header)).toMatch(/^Basic [A-Za-z0-9+/]{0,12}\*{8}[A-Za-z0-9+/]{0,2}=*$/);
    }
  });

  it('masks no short unrelated text: hex and base64 forms under 8 characters are left alone; the secret itself, of any length, is not', () => {
    const r = new Redactor();
    r.add('pa');
    r.add('hunter');
    // pa: hex 7061, base64 cGE=; hunter: hex 68756e746572 (12) is masked, base64 aHVudGVy (8) is masked at offset 0 only.
    expect(r.redact('sha 70617373 b64 cGE=cGFzcw== pa')).toBe('sha 70617373 b64 cGE=cGFzcw== ********');
    expect(r.redact('68756e746572 aHVudGVy')).toBe('******** ********');
    // Offsets 1 and 2 of a 6-byte secret leave fewer than 8 characters of its own: not masked.
    const at1 = Buffer.from('xhunter').toString('base64');
    expect(r.redact(at1)).toBe(at1);
    // Plain words and encodings of other text stay.
    const unrelated = 'the quick brown fox %20 \\u0041 + 0123456789abcdef QUJDREVGR0g=';
    expect(r.redact(unrelated)).toBe(unrelated);
  });

  it('registers each secret once and says how many it masks', () => {
    const r = new Redactor();
    r.add('one-secret');
    r.add('one-secret');
    r.add('');
    r.add('another');
    expect(r.size).toBe(2);
  });

  it('masks every form the test sweep looks for (test-support/secret-sweep.ts)', () => {
    for (const secret of [SECRET, '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c', 'ahl-s3-secret-do-not-print', 'ünïcödé pässwörd']) {
      const r = new Redactor();
      r.add(secret);
      for (const { encoding, text } of secretEncodings(secret)) expect(r.redact(`[${text}]`), `${encoding} of ${JSON.stringify(secret)}`).toBe('[********]');
    }
  });

  it('is quick on large output', () => {
    const r = new Redactor();
    for (let i = 0; i < 20; i++) r.add(`${i}f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c`);
    r.add(SECRET);
    const line = JSON.stringify({ address: 'proxmox_virtual_environment_vm.web-01', change: { before: null, after: { memory: [{ dedicated: 4096 }], tags: ['ahl', 'web'] } } });
    const text = `${line}\n`.repeat(Math.ceil((4 * 1024 * 1024) / line.length));
    r.redact('warm up');
    const t0 = performance.now();
    expect(r.redact(text)).toBe(text);
    // Measured: about 10 ms for these 4 MiB on a 2-core machine; the bound leaves room for a busy one.
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
