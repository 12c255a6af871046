import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIN_ENCODED_LENGTH, recorded, secretEncodings, secretSweep } from './secret-sweep.js';

const SECRET = 'p@ss "w\\rd" é€🔑/+&<>~!*\'()\t';
const TOKEN = '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c';

const form = (secret: string, encoding: string) => secretEncodings(secret).find((e) => e.encoding === encoding)?.text;

describe('secretEncodings', () => {
  // Recorded from the tools: Python 3 json.dumps and urllib.parse.quote/quote_plus (safe=''), Go's
  // encoding/json Marshal and net/url QueryEscape.
  it.each([
    ['raw', SECRET],
    ['json', JSON.stringify(SECRET).slice(1, -1)],
    ['json-ascii', String.raw`p@ss \"w\\rd\" \u00e9\u20ac\ud83d\udd11/+&<>~!*'()\t`],
    ['json-html', String.raw`p@ss \"w\\rd\" é€🔑/+\u0026\u003c\u003e~!*'()\t`],
    ['json-in-json', String.raw`p@ss \\\"w\\\\rd\\\" é€🔑/+&<>~!*'()\\t`],
    ['url', encodeURIComponent(SECRET)],
    ['url-rfc3986', 'p%40ss%20%22w%5Crd%22%20%C3%A9%E2%82%AC%F0%9F%94%91%2F%2B%26%3C%3E~%21%2A%27%28%29%09'],
    ['form', 'p%40ss+%22w%5Crd%22+%C3%A9%E2%82%AC%F0%9F%94%91%2F%2B%26%3C%3E%7E%21*%27%28%29%09'],
    ['form-rfc3986', 'p%40ss+%22w%5Crd%22+%C3%A9%E2%82%AC%F0%9F%94%91%2F%2B%26%3C%3E~%21%2A%27%28%29%09'],
    ['hex', Buffer.from(SECRET).toString('hex')],
    ['HEX', Buffer.from(SECRET).toString('hex').toUpperCase()],
  ])('%s is the secret as that encoder writes it', (encoding, text) => {
    expect(form(SECRET, encoding)).toBe(text);
  });

  const cases = [0, 1, 2, 3, 4, 5].flatMap((before) => [0, 1, 2].flatMap((after) => [true, false].map((padded) => ({ before, after, padded }))));
  it.each(cases)('base64 and base64url of the secret $before bytes into a value with $after bytes after it (padded: $padded) hold its form for that offset', ({ before, after, padded }) => {
    for (const secret of [SECRET, TOKEN]) {
      const value = Buffer.concat([Buffer.from('root@pam:'.slice(0, before)), Buffer.from(secret), Buffer.from('xy'.slice(0, after))]);
      const strip = (s: string) => (padded ? s : s.replace(/=+$/, ''));
      expect(strip(value.toString('base64'))).toContain(form(secret, `base64@${before % 3}`));
      // Listed once when it is the same text as base64 (no + or / in it).
      expect(strip(value.toString('base64url'))).toContain(form(secret, `base64url@${before % 3}`) ?? form(secret, `base64@${before % 3}`));
    }
  });

  it(`leaves out hex and base64 forms under ${MIN_ENCODED_LENGTH} characters, and duplicates`, () => {
    expect(secretEncodings('pa')).toEqual([
      { encoding: 'raw', text: 'pa' },
    ]);
    // 6 bytes: hex (12) and base64 at offset 0 (8) are long enough; at offsets 1 and 2 only 7 characters are its own.
    expect(secretEncodings('hunter').map((e) => e.encoding)).toEqual(['raw', 'hex', 'HEX', 'base64@0']);
    expect(secretEncodings(TOKEN).map((e) => e.encoding)).toEqual(['raw', 'hex', 'HEX', 'base64@0', 'base64@1', 'base64@2']);
  });
});

describe('secretSweep', () => {
  function lab(): string {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-sweep-'));
    const ahl = join(dir, '.ahl');
    mkdirSync(join(ahl, 'state', 'deep'), { recursive: true });
    writeFileSync(join(ahl, 'clean.json'), JSON.stringify({ token: '********' }));
    writeFileSync(join(ahl, 'state', 'vars.json'), JSON.stringify({ api: SECRET }));
    writeFileSync(join(ahl, 'state', 'deep', 'headers.txt'), `Authorization: Basic ${Buffer.from(`ahl@pve:${TOKEN}`).toString('base64')}\n`);
    writeFileSync(join(ahl, 'state', 'deep', 'url.log'), `GET /x?token=${encodeURIComponent(SECRET)}\n`);
    writeFileSync(join(ahl, 'token'), `${TOKEN}\n`);
    // Outside .ahl, and reached only through a link: neither is swept.
    writeFileSync(join(dir, 'elsewhere'), TOKEN);
    symlinkSync(join(dir, 'elsewhere'), join(ahl, 'link'));
    return dir;
  }

  it('finds each secret in each file in its encoding, naming the secret by its label only', () => {
    const dir = lab();
    const findings = secretSweep(join(dir, '.ahl'), { 'proxmox token': TOKEN, 'stack secret': SECRET });
    expect(findings).toEqual([
      { where: join(dir, '.ahl/state/deep/headers.txt'), secret: 'proxmox token', encoding: 'base64@2' },
      { where: join(dir, '.ahl/state/deep/url.log'), secret: 'stack secret', encoding: 'url' },
      { where: join(dir, '.ahl/state/vars.json'), secret: 'stack secret', encoding: 'json' },
      { where: join(dir, '.ahl/token'), secret: 'proxmox token', encoding: 'raw' },
    ]);
    const printed = JSON.stringify(findings);
    for (const e of [...secretEncodings(TOKEN), ...secretEncodings(SECRET)]) expect(printed).not.toContain(e.text);
  });

  it('skips what holds a secret by design, ignores paths that do not exist, and sweeps the output text too', () => {
    const dir = lab();
    const findings = secretSweep([join(dir, '.ahl'), join(dir, 'nowhere')], [TOKEN], ['all clean', `token=${Buffer.from(TOKEN).toString('hex').toUpperCase()}`], {
      skip: [join(dir, '.ahl/token'), join(dir, '.ahl/state/deep')],
    });
    expect(findings).toEqual([{ where: 'output[1]', secret: 'secret[0]', encoding: 'HEX' }]);
    expect(secretSweep(join(dir, '.ahl', 'clean.json'), [TOKEN, SECRET], { stdout: 'ok', stderr: 'fine' })).toEqual([]);
    expect(secretSweep(join(dir, '.ahl'), {}, 'x')).toEqual([]);
  });

  it('finds a secret across the seam between two pieces of a large file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-sweep-large-'));
    const big = Buffer.alloc(8 * 1024 * 1024 + 100, 0x2e);
    Buffer.from(TOKEN).copy(big, 8 * 1024 * 1024 - 10);
    writeFileSync(join(dir, 'disk.img'), big);
    expect(secretSweep(dir, [TOKEN])).toEqual([{ where: join(dir, 'disk.img'), secret: 'secret[0]', encoding: 'raw' }]);
  });
});

describe('recorded', () => {
  it('keeps what each call returned, and what it threw (message, stack, JSON form, cause) before throwing it on', async () => {
    const sink: string[] = [];
    const ok = recorded(sink, async (n: number) => ({ n, text: 'out' }));
    const text = recorded(sink, async () => 'plain text');
    class CodedError extends Error {
      toJSON() {
        return { code: 'TERRAFORM_FAILED', details: { stderr: 'in the details' } };
      }
    }
    const fail = recorded(sink, async () => {
      throw new CodedError('in the message', { cause: new Error('in the cause') });
    });
    expect(await ok(1)).toEqual({ n: 1, text: 'out' });
    expect(await text()).toBe('plain text');
    await expect(fail()).rejects.toThrow('in the message');
    expect(sink[0]).toBe('{"n":1,"text":"out"}');
    expect(sink[1]).toBe('plain text');
    for (const part of ['in the message', 'in the details', 'TERRAFORM_FAILED', 'cause: Error: in the cause']) expect(sink[2]).toContain(part);
  });
});
