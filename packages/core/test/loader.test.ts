import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AhlError, findLabRoot, formatDiagnostic, loadLab, readLabInput, validateLab } from '../src/index.js';
import { FIXTURES } from './corpus.js';

describe('finding and reading a lab', () => {
  it('finds lab.yaml upward from a nested folder, like git', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-root-'));
    cpSync(join(FIXTURES, 'base'), dir, { recursive: true });
    const deep = join(dir, 'stacks', 'app', 'sub');
    mkdirSync(deep, { recursive: true });
    expect(await findLabRoot(deep)).toBe(dir);
  });

  it('says LAB_NOT_FOUND when no parent holds lab.yaml', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-noroot-'));
    await expect(findLabRoot(dir)).rejects.toMatchObject({ code: 'LAB_NOT_FOUND' });
    await expect(readLabInput(dir)).rejects.toBeInstanceOf(AhlError);
  });

  it('reads lab.yaml, images, personas and the stack folders', async () => {
    const input = await readLabInput(join(FIXTURES, 'base'));
    expect(input.files.map((f) => f.path)).toEqual(['lab.yaml', 'images/appl.yaml', 'images/ubuntu.yaml', 'personas/nas.yaml', 'personas/web.yaml']);
    expect(input.stacks).toEqual({ app: ['compose.yaml'] });
  });
});

describe('the validated lab is kept by the digest of its files', () => {
  it('gives the same frozen lab from the cache, and validates afresh when a file changes or the cache is damaged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-cache-'));
    cpSync(join(FIXTURES, 'base'), dir, { recursive: true });
    const cache = join(dir, '.ahl/cache/lab.json');
    const fresh = await loadLab(dir);
    expect(fresh.errors).toEqual([]);
    expect(existsSync(cache)).toBe(true);
    const cached = await loadLab(dir);
    expect(cached).toEqual(fresh);
    expect(Object.isFrozen(cached.lab!.hosts[0]!.resources)).toBe(true);
    // A cache hit reads no YAML: a planted result under the same key is what comes back.
    const planted = JSON.parse(readFileSync(cache, 'utf8')) as { result: { lab: { name: string } } };
    planted.result.lab.name = 'from-cache';
    writeFileSync(cache, JSON.stringify(planted));
    expect((await loadLab(dir)).lab?.name).toBe('from-cache');
    expect((await loadLab(dir, { cache: false })).lab?.name).toBe(fresh.lab!.name);
    // Any change of a file is a new key.
    const persona = join(dir, 'personas/web.yaml');
    writeFileSync(persona, readFileSync(persona, 'utf8').replace(/\n$/, '\n# a comment\n'));
    expect((await loadLab(dir)).lab?.name).toBe(fresh.lab!.name);
    writeFileSync(cache, '{not json');
    expect((await loadLab(dir)).lab).toEqual(fresh.lab);
    // An invalid lab is never kept: its errors are worked out each time.
    writeFileSync(persona, 'template: 3\n');
    expect((await loadLab(dir)).errors.length).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(cache, 'utf8')).result.lab.name).toBe(fresh.lab!.name);
  });
});

describe('validateLab is pure', () => {
  it('validates files given in memory', () => {
    const r = validateLab({
      root: '/lab',
      stacks: {},
      files: [
        { path: 'lab.yaml', text: 'name: mem\nproxmox:\n  endpoint: https://pve:8006\n  tokenId: a@pve!t\n  tokenSecret: env:X\nnodes:\n  n1: {}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAA]\n' },
        { path: 'images/deb.yaml', text: 'os: {family: debian, release: bookworm}\nsource:\n  url: https://x/deb.qcow2\n  checksumUrl: https://x/SHA512SUMS\n' },
        { path: 'personas/p.yaml', text: 'template: deb@canary\nhosts:\n  h1: {node: n1, ip: 10.1.0.5/16, gateway: 10.1.255.254}\n' },
      ],
    });
    expect(r.errors.map(formatDiagnostic)).toEqual([]);
    expect(r.lab?.hosts[0]).toMatchObject({ name: 'h1', dns: ['10.1.255.254'], network: { bridge: 'vmbr0' }, disk: { datastore: 'local-lvm' } });
    expect(r.lab?.config.state).toEqual({ backend: 'local', path: '.ahl/state' });
  });

  it('reports a missing lab.yaml and still checks the other files', () => {
    const r = validateLab({ root: '/lab', stacks: {}, files: [{ path: 'personas/p.yaml', text: 'templat: x@stable\n' }] });
    expect(r.errors.map(formatDiagnostic)).toEqual([
      'lab.yaml:1:1 lab.yaml is missing: every lab needs one at its root',
      'personas/p.yaml:1:1 templat: unknown key, did you mean "template"?',
      'personas/p.yaml:1:1 template: is required',
    ]);
  });

  it('uses per-node bridge and storage overrides', () => {
    const r = validateLab({
      root: '/lab',
      stacks: {},
      files: [
        { path: 'lab.yaml', text: 'name: mem\nproxmox:\n  endpoint: https://pve:8006\n  tokenId: a@pve!t\n  tokenSecret: env:X\nnodes:\n  n1: {}\n  n2:\n    bridge: vmbr9\n    storage: {vm: fast}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAA]\n' },
        { path: 'images/deb.yaml', text: 'os: {family: debian, release: bookworm}\nsource:\n  url: https://x/deb.qcow2\n  checksumUrl: https://x/SHA512SUMS\n' },
        { path: 'personas/p.yaml', text: 'template: deb@stable\nhosts:\n  h1: {node: n1, ip: 10.1.0.5/24, gateway: 10.1.0.1}\n  h2: {node: n2, ip: 10.1.0.6/24, gateway: 10.1.0.1}\n' },
      ],
    });
    expect(r.lab?.hosts.map((h) => [h.name, h.network.bridge, h.disk.datastore])).toEqual([
      ['h1', 'vmbr0', 'local-lvm'],
      ['h2', 'vmbr9', 'fast'],
    ]);
  });
});

describe('lab.local.yaml', () => {
  const files = [
    { path: 'lab.yaml', text: 'name: mem\nproxmox:\n  endpoint: https://pve:8006\n  tokenId: a@pve!t\n  tokenSecret: env:X\n  tls: {ca: ca.pem}\nnodes:\n  n1: {}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAA]\n' },
    { path: 'images/deb.yaml', text: 'os: {family: debian, release: bookworm}\nsource:\n  url: https://x/deb.qcow2\n  checksumUrl: https://x/SHA512SUMS\n' },
  ];

  it('overrides the endpoint, token, TLS and image sources for this machine', () => {
    const r = validateLab({
      root: '/lab',
      stacks: {},
      files: [
        ...files,
        { path: 'lab.local.yaml', text: 'proxmox:\n  endpoint: https://127.0.0.1:8006\n  tokenSecret: file:.ahl/lab/token\n  tls: {fingerprint: "' + Array(32).fill('AB').join(':') + '"}\nimages:\n  deb:\n    source: {url: http://127.0.0.1:9/d.qcow2, checksumUrl: http://127.0.0.1:9/SHA256SUMS}\n' },
      ],
    });
    expect(r.errors).toEqual([]);
    expect(r.lab?.config.proxmox).toEqual({ endpoint: 'https://127.0.0.1:8006', tokenId: 'a@pve!t', tokenSecret: 'file:.ahl/lab/token', tls: { verify: true, fingerprint: Array(32).fill('AB').join(':') } });
    expect(r.lab?.images.deb?.source).toEqual({ url: 'http://127.0.0.1:9/d.qcow2', checksumUrl: 'http://127.0.0.1:9/SHA256SUMS' });
    expect(r.lab?.recordsRoot).toBe('/lab');
  });

  it('installs every container engine from the distribution when this machine cannot reach Docker\'s repository', () => {
    const persona = (name: string, system: string) => ({ path: `personas/${name}.yaml`, text: `template: deb@stable\nsystem:\n${system}hosts:\n  ${name}-1: {node: n1, vmid: ${name === 'box' ? 101 : 102}, ip: 10.0.0.${name === 'box' ? 1 : 2}/24, gateway: 10.0.0.254}\n` });
    const r = validateLab({
      root: '/lab',
      stacks: {},
      files: [
        ...files,
        persona('box', '  containerEngine: {kind: docker, source: upstream}\n'),
        persona('plain', '  packages: [curl]\n'),
        { path: 'lab.local.yaml', text: 'system:\n  containerEngineSource: distro\n' },
      ],
    });
    expect(r.errors).toEqual([]);
    expect(r.lab?.personas.box?.system?.containerEngine).toEqual({ kind: 'docker', source: 'distro' });
    expect(r.lab?.personas.plain?.system?.containerEngine).toBeUndefined();
  });

  it('keeps template records of another endpoint out of images/ when told', () => {
    const r = validateLab({ root: '/lab', stacks: {}, files: [...files, { path: 'lab.local.yaml', text: 'records: .ahl/lab/records\n' }] });
    expect(r.lab?.recordsRoot).toBe('/lab/.ahl/lab/records');
  });

  it('reports its own mistakes at its own lines', () => {
    const r = validateLab({ root: '/lab', stacks: {}, files: [...files, { path: 'lab.local.yaml', text: 'proxmox:\n  endpont: x\nimages:\n  nope:\n    source: {url: http://a/b}\n' }] });
    expect(r.errors.map(formatDiagnostic)).toEqual([
      'lab.local.yaml:2:3 proxmox.endpont: unknown key, did you mean "endpoint"?',
    ]);
    const r2 = validateLab({ root: '/lab', stacks: {}, files: [...files, { path: 'lab.local.yaml', text: 'images:\n  nope:\n    source: {url: http://a/b}\n' }] });
    expect(r2.errors.map(formatDiagnostic)).toEqual(['lab.local.yaml:2:3 images.nope: image "nope" is not declared in images/']);
  });
});
