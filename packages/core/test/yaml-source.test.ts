import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadLab, validateLab, type SourceFile } from '../src/index.js';
import { FIXTURES } from './corpus.js';

const LAB = { path: 'lab.yaml', text: 'name: mem\nproxmox:\n  endpoint: https://pve:8006\n  tokenId: a@pve!t\n  tokenSecret: env:X\nnodes:\n  n1: {}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAA]\n' };
const IMAGE = { path: 'images/deb.yaml', text: 'os: {family: debian, release: bookworm}\nsource:\n  url: https://x/deb.qcow2\n  checksumUrl: https://x/SHA512SUMS\n' };

/** The lines `ahl validate` prints for a lab of LAB, IMAGE and `files`. */
function check(...files: SourceFile[]) {
  const r = validateLab({ root: '/lab', stacks: {}, files: [LAB, IMAGE, ...files] });
  return { r, lines: r.errors.map(formatDiagnostic), codes: r.errors.map((e) => e.code) };
}

/** The classic "billion laughs": nine levels of nine aliases each, 9^9 strings once expanded. */
function aliasBomb(): string {
  let text = 'template: deb@stable\nx-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    text += `x-${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]\n`;
  }
  return `${text}hosts: {}\n`;
}

describe('YAML that would exhaust the loader is reported, not run', () => {
  it('stops an alias bomb at the alias that crosses the limit, with a stable code', () => {
    const { r, lines, codes } = check({ path: 'personas/p.yaml', text: aliasBomb() });
    expect(r.lab).toBeUndefined();
    expect(lines).toEqual([
      'personas/p.yaml:7:10 x-f[0]: alias *e takes the values aliases expand to past 100,000 (an alias bomb?); a lab file may not expand more than that',
    ]);
    expect(codes).toEqual(['YAML_ALIAS_LIMIT']);
  });

  it('allows aliases that expand to a sensible size', () => {
    const hosts = Array.from({ length: 200 }, (_, i) => `  h${i}: {node: n1, ip: 10.1.${i >> 8}.${(i & 255) + 1}/16, gateway: 10.1.255.254, tags: *tags}`).join('\n');
    const { r, lines } = check({ path: 'personas/p.yaml', text: `template: deb@stable\ntags: &tags [a, b]\nhosts:\n${hosts}\n` });
    // `tags` at the top is the persona's own field; the aliases to it are fine.
    expect(lines).toEqual([]);
    expect(r.lab?.hosts.find((h) => h.name === 'h7')?.tags).toEqual(['a', 'ahl', 'b', 'p']);
  });

  it('reports an alias without an anchor, and an alias inside its own anchor, instead of throwing', () => {
    expect(check({ path: 'personas/p.yaml', text: 'template: deb@stable\nhosts:\n  h1: *nope\n' }).lines).toEqual([
      'personas/p.yaml:3:7 hosts.h1: alias *nope has no anchor &nope before it',
    ]);
    const { lines, codes } = check({ path: 'personas/p.yaml', text: 'template: deb@stable\ntags: &t [a, *t]\n' });
    expect(lines).toEqual(['personas/p.yaml:2:14 tags[1]: alias *t lies inside the value it names, which would make that value infinite']);
    expect(codes).toEqual(['YAML_ALIAS_RECURSIVE']);
  });

  it('reports nesting deeper than 64 levels, however deep', () => {
    const block = Array.from({ length: 70 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    const { lines, codes } = check({ path: 'personas/p.yaml', text: `template: deb@stable\nx:\n ${block.replace(/\n/g, '\n ')} 1\n` });
    expect(codes).toEqual(['YAML_TOO_DEEP']);
    expect(lines[0]).toMatch(/^personas\/p\.yaml:66:\d+ x(\.k)+: nesting is too deep; a lab file nests at most 64 levels$/);
    // Deep enough to overflow the parser's own stack: its error becomes the same diagnostic.
    const flow = check({ path: 'personas/p.yaml', text: `template: deb@stable\nx: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n` });
    expect(flow.codes).toEqual(['YAML_TOO_DEEP']);
    expect(flow.lines[0]).toMatch(/^personas\/p\.yaml:2:\d+ nesting is too deep; a lab file nests at most 64 levels$/);
  });

  it('refuses a file over 10 MB without parsing it, in memory and on disk', async () => {
    const big = `template: deb@stable\n# ${'x'.repeat(11 * 1024 * 1024)}\n`;
    const { lines, codes } = check({ path: 'personas/p.yaml', text: big });
    expect(lines).toEqual(['personas/p.yaml:1:1 the file is 11 MB; a lab file may be at most 10 MB']);
    expect(codes).toEqual(['FILE_TOO_LARGE']);

    const dir = mkdtempSync(join(tmpdir(), 'ahl-big-'));
    cpSync(join(FIXTURES, 'base'), dir, { recursive: true });
    writeFileSync(join(dir, 'personas/big.yaml'), big);
    writeFileSync(join(dir, 'stacks/app/big.conf.j2'), big);
    const r = await loadLab(dir, { cache: false });
    expect(r.errors.map(formatDiagnostic)).toEqual([
      'personas/big.yaml:1:1 the file is 11 MB; a lab file may be at most 10 MB',
      'stacks/app/big.conf.j2:1:1 the file is 11 MB; a lab file may be at most 10 MB',
    ]);
  });

  it('reports a duplicate key at its second occurrence, with its field', () => {
    const { lines, codes } = check({ path: 'personas/p.yaml', text: 'template: deb@stable\nhosts:\n  h1: {node: n1, ip: 10.1.0.5/16, gateway: 10.1.255.254}\n  h1: {node: n1}\ntemplate: deb@stable\n' });
    expect(lines).toEqual([
      'personas/p.yaml:4:3 hosts.h1: duplicate key "h1": a key may appear only once in a mapping',
      'personas/p.yaml:5:1 template: duplicate key "template": a key may appear only once in a mapping',
    ]);
    expect(codes).toEqual(['YAML_DUPLICATE_KEY', 'YAML_DUPLICATE_KEY']);
  });

  it('reports control characters in keys and values, written raw or escaped, without echoing the value', () => {
    const { lines, codes } = check({
      path: 'personas/p.yaml',
      text: 'template: deb@stable\ndescription: "web\\0server"\nhosts:\n  "h\\e[31m1": {node: n1, ip: 10.1.0.5/16, gateway: 10.1.255.254, description: "a\tb\\nc"}\n  h2: {node: n1, ip: 10.1.0.6/16, gateway: 10.1.255.254, description: bell\u0007}\n',
    });
    expect(lines).toEqual([
      'personas/p.yaml:2:14 description: the value holds the control character U+0000 (NUL); lab files hold printable text only (tabs and line breaks are fine)',
      'personas/p.yaml:4:3 hosts["h\\u001b[31m1"]: the key holds the control character U+001B (ESC); lab files hold printable text only (tabs and line breaks are fine)',
      'personas/p.yaml:5:71 hosts.h2.description: the value holds the control character U+0007 (BEL); lab files hold printable text only (tabs and line breaks are fine)',
    ]);
    // The model's own rules for these fields (a description is one line of text, a host name a DNS
    // label) would say the same again: the YAML check that names the character speaks for the field.
    expect(codes).toEqual(['YAML_CONTROL_CHARACTER', 'YAML_CONTROL_CHARACTER', 'YAML_CONTROL_CHARACTER']);
  });
});

describe('a persona of a few hundred hosts', () => {
  it('checks a persona of 400 hosts and names the first holder of a reused value exactly', () => {
    const n = 400;
    const hosts = Array.from({ length: n }, (_, i) => {
      // The last host reuses the first host's address, vmid and MAC.
      const j = i === n - 1 ? 0 : i;
      return `  h${i}:\n    node: n1\n    ip: 10.1.${j >> 7}.${(j & 127) + 1}/16\n    gateway: 10.1.255.254\n    vmid: ${1000 + j}\n    mac: 02:00:00:00:${(j >> 8).toString(16).padStart(2, '0')}:${(j & 255).toString(16).padStart(2, '0')}\n`;
    });
    const { lines } = check(
      { path: 'personas/p.yaml', text: `template: deb@stable\nhosts:\n${hosts.join('')}` },
      { path: 'personas/q.yaml', text: 'template: deb@stable\nhosts:\n  h250: {node: n1, ip: 10.1.9.9/16, gateway: 10.1.255.254}\n' },
    );
    // Host i starts on line 3 + 6i.
    expect(lines).toEqual([
      'personas/p.yaml:2399:9 hosts.h399.ip: address 10.1.0.1 is already used by h0 (personas/p.yaml:5:9)',
      'personas/p.yaml:2401:11 hosts.h399.vmid: vmid 1000 is already used by h0 (personas/p.yaml:7:11)',
      'personas/p.yaml:2402:10 hosts.h399.mac: MAC 02:00:00:00:00:00 is already used by h0 (personas/p.yaml:8:10)',
      'personas/q.yaml:3:3 hosts.h250: host "h250" is already declared at personas/p.yaml:1503:3',
    ]);
  });
});
