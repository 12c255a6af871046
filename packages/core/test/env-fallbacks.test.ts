import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, formatEnvFallback, loadLab, validateLab, type Lab, type LabEnv } from '../src/index.js';

/** lab.yaml's fields, each one line (or block) that a case may leave out. */
const FIELDS = {
  'proxmox.endpoint': '  endpoint: https://pve.yaml:8006',
  'proxmox.tokenId': '  tokenId: ahl@pve!yaml',
  'proxmox.tokenSecret': '  tokenSecret: file:secrets/token',
  nodes: 'nodes:\n  pve1: {}',
  'defaults.storage.vm': '    vm: yaml-vm',
  'defaults.storage.iso': '    iso: yaml-iso',
  'defaults.bridge': '  bridge: vmbr5',
  'runway.minFreeGibIso': '  minFreeGibIso: 2',
  'runway.minFreePctVm': '  minFreePctVm: 5',
} as const;
type Field = keyof typeof FIELDS;

function labYaml(without: readonly Field[] = []): string {
  const has = (f: Field) => (without.includes(f) ? [] : [FIELDS[f]]);
  return [
    'name: mem',
    'proxmox:',
    ...has('proxmox.endpoint'),
    ...has('proxmox.tokenId'),
    ...has('proxmox.tokenSecret'),
    ...has('nodes'),
    'defaults:',
    '  storage:',
    ...has('defaults.storage.vm'),
    ...has('defaults.storage.iso'),
    '    import: local',
    ...has('defaults.bridge'),
    'runway:',
    ...has('runway.minFreeGibIso'),
    ...has('runway.minFreePctVm'),
    'cloudInit:',
    '  sshKeys: [ssh-ed25519 AAAA]',
    '',
  ].join('\n');
}

const validate = (lab: string, env?: LabEnv, local?: string) =>
  validateLab({
    root: '/lab',
    stacks: {},
    files: [
      { path: 'lab.yaml', text: lab },
      ...(local ? [{ path: 'lab.local.yaml', text: local }] : []),
      { path: 'images/deb.yaml', text: 'os: {family: debian, release: bookworm}\nsource:\n  url: https://x/deb.qcow2\n  checksumUrl: https://x/SHA512SUMS\n' },
      { path: 'personas/p.yaml', text: 'template: deb@stable\nhosts:\n  h1: {node: pve1, ip: 10.1.0.5/24, gateway: 10.1.0.1}\n' },
    ],
    ...(env ? { env } : {}),
  });

/** Each variable of the original lab, what it is set to, the field it fills and where that lands in the lab. */
const CASES: readonly { variable: string; text: string; field: Field; value: string | number; got: (lab: Lab) => unknown; expected: unknown }[] = [
  { variable: 'PVE_ACCESS_HOST', text: 'pve.env', field: 'proxmox.endpoint', value: 'https://pve.env:8006', got: (l) => l.config.proxmox.endpoint, expected: 'https://pve.env:8006' },
  { variable: 'PM_TOKEN_ID', text: 'root@pam!env', field: 'proxmox.tokenId', value: 'root@pam!env', got: (l) => l.config.proxmox.tokenId, expected: 'root@pam!env' },
  { variable: 'PM_TOKEN_SECRET', text: 'the-secret-value', field: 'proxmox.tokenSecret', value: 'env:PM_TOKEN_SECRET', got: (l) => l.config.proxmox.tokenSecret, expected: 'env:PM_TOKEN_SECRET' },
  { variable: 'PVE_NODE', text: 'pve1', field: 'nodes', value: 'pve1', got: (l) => l.config.nodes, expected: { pve1: {} } },
  { variable: 'PVE_STORAGE_VM', text: 'env-vm', field: 'defaults.storage.vm', value: 'env-vm', got: (l) => [l.config.defaults.storage.vm, l.hosts[0]!.disk.datastore], expected: ['env-vm', 'env-vm'] },
  { variable: 'PVE_STORAGE_ISO', text: 'env-iso', field: 'defaults.storage.iso', value: 'env-iso', got: (l) => l.config.defaults.storage.iso, expected: 'env-iso' },
  { variable: 'PVE_BRIDGE', text: 'vmbr7', field: 'defaults.bridge', value: 'vmbr7', got: (l) => [l.config.defaults.bridge, l.hosts[0]!.network.bridge], expected: ['vmbr7', 'vmbr7'] },
  { variable: 'L0_MIN_FREE_GIB_ISO', text: '8', field: 'runway.minFreeGibIso', value: 8, got: (l) => l.config.runway.minFreeGibIso, expected: 8 },
  { variable: 'L0_MIN_FREE_PCT_VM', text: '25', field: 'runway.minFreePctVm', value: 25, got: (l) => l.config.runway.minFreePctVm, expected: 25 },
];

describe('the original lab\'s environment variables fill what lab.yaml leaves out', () => {
  it.each(CASES)('$variable fills $field', ({ variable, text, field, value, got, expected }) => {
    const r = validate(labYaml([field]), { [variable]: text });
    expect(r.errors.map(formatDiagnostic)).toEqual([]);
    expect(got(r.lab!)).toEqual(expected);
    expect(r.envFallbacks).toEqual([{ variable, field, value }]);
    expect(r.envFallbacks!.map(formatEnvFallback)).toEqual([`${variable} from the environment filled ${field}: ${value}`]);
  });

  it.each(CASES)('lab.yaml wins over $variable where it sets $field', ({ variable, field, got }) => {
    const plain = validate(labYaml());
    const r = validate(labYaml(), { [variable]: field.startsWith('runway') ? '99' : 'pve1' });
    expect(r.errors).toEqual([]);
    expect(got(r.lab!)).toEqual(got(plain.lab!));
    expect(r.envFallbacks).toBeUndefined();
  });

  it('says what it filled, one line per variable, in a fixed order', () => {
    const env = Object.fromEntries(CASES.map((c) => [c.variable, c.text]));
    const r = validate(labYaml(CASES.map((c) => c.field)), env);
    expect(r.errors).toEqual([]);
    expect(r.envFallbacks!.map(formatEnvFallback)).toEqual([
      'PVE_ACCESS_HOST from the environment filled proxmox.endpoint: https://pve.env:8006',
      'PM_TOKEN_ID from the environment filled proxmox.tokenId: root@pam!env',
      'PM_TOKEN_SECRET from the environment filled proxmox.tokenSecret: env:PM_TOKEN_SECRET',
      'PVE_NODE from the environment filled nodes: pve1',
      'PVE_STORAGE_VM from the environment filled defaults.storage.vm: env-vm',
      'PVE_STORAGE_ISO from the environment filled defaults.storage.iso: env-iso',
      'PVE_BRIDGE from the environment filled defaults.bridge: vmbr7',
      'L0_MIN_FREE_GIB_ISO from the environment filled runway.minFreeGibIso: 8',
      'L0_MIN_FREE_PCT_VM from the environment filled runway.minFreePctVm: 25',
    ]);
    // The secret's value is never read, kept or shown: the field is the reference that reads it later.
    expect(JSON.stringify(r)).not.toContain('the-secret-value');
  });

  it.each([
    ['pve.env', 'https://pve.env:8006'],
    ['192.168.1.5', 'https://192.168.1.5:8006'],
    ['pve.env:443', 'https://pve.env:443'],
    ['[fd00::5]', 'https://[fd00::5]:8006'],
    ['https://pve.env:8006', 'https://pve.env:8006'],
    ['http://pve.env:8080/', 'http://pve.env:8080/'],
  ])('PVE_ACCESS_HOST=%s is the endpoint %s', (text, endpoint) => {
    expect(validate(labYaml(['proxmox.endpoint']), { PVE_ACCESS_HOST: text }).lab?.config.proxmox.endpoint).toBe(endpoint);
  });

  it('keeps a required field required when no variable supplies it', () => {
    const r = validate(labYaml(['proxmox.endpoint', 'nodes']), { PVE_BRIDGE: '' });
    expect(r.errors.map(formatDiagnostic)).toEqual(['lab.yaml:1:1 nodes: is required', 'lab.yaml:3:3 proxmox.endpoint: is required']);
    expect(r.envFallbacks).toBeUndefined();
  });

  it('names the variable in a problem with the value it gave', () => {
    const r = validate(labYaml(['defaults.bridge', 'runway.minFreePctVm', 'proxmox.tokenId']), { PVE_BRIDGE: 'bad bridge', L0_MIN_FREE_PCT_VM: 'lots', PM_TOKEN_ID: 'root' });
    expect(r.lab).toBeUndefined();
    expect(r.errors.map(formatDiagnostic)).toEqual([
      'lab.yaml:3:3 proxmox.tokenId: must be an API token id USER@REALM!NAME (or env:NAME) (from PM_TOKEN_ID="root" in the environment)',
      'lab.yaml:8:3 defaults.bridge: must start with a letter and hold only letters, digits, ".", "_" and "-" (from PVE_BRIDGE="bad bridge" in the environment)',
      'lab.yaml:13:3 runway.minFreePctVm: expected a number, got a string (from L0_MIN_FREE_PCT_VM="lots" in the environment)',
    ]);
  });

  it('leaves out a variable whose field lab.local.yaml sets: this machine\'s file wins over both', () => {
    const r = validate(labYaml(['proxmox.endpoint', 'proxmox.tokenId']), { PVE_ACCESS_HOST: 'pve.env', PM_TOKEN_ID: 'root@pam!env' }, 'proxmox:\n  endpoint: https://127.0.0.1:8006\n');
    expect(r.errors).toEqual([]);
    expect(r.lab?.config.proxmox.endpoint).toBe('https://127.0.0.1:8006');
    expect(r.envFallbacks).toEqual([{ variable: 'PM_TOKEN_ID', field: 'proxmox.tokenId', value: 'root@pam!env' }]);
  });

  it('fills nothing without an environment, or into a section that is not a mapping', () => {
    expect(validate(labYaml(['proxmox.endpoint'])).errors.map(formatDiagnostic)).toEqual(['lab.yaml:3:3 proxmox.endpoint: is required']);
    const r = validate(labYaml().replace(/^runway:\n.*\n.*\n/m, 'runway: 3\n'), { L0_MIN_FREE_GIB_ISO: '8' });
    expect(r.errors.map(formatDiagnostic)).toEqual(['lab.yaml:14:9 runway: expected a mapping, got a number']);
  });
});

describe('loadLab takes the caller\'s environment', () => {
  it('passes the variables to validation, and the cache keeps a lab per value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-env-'));
    mkdirSync(join(dir, 'images'));
    mkdirSync(join(dir, 'personas'));
    writeFileSync(join(dir, 'lab.yaml'), labYaml(['defaults.bridge', 'proxmox.endpoint']));
    writeFileSync(join(dir, 'images/deb.yaml'), 'os: {family: debian, release: bookworm}\nsource:\n  url: https://x/deb.qcow2\n  checksumUrl: https://x/SHA512SUMS\n');
    writeFileSync(join(dir, 'personas/p.yaml'), 'template: deb@stable\nhosts:\n  h1: {node: pve1, ip: 10.1.0.5/24, gateway: 10.1.0.1}\n');
    const env = { PVE_ACCESS_HOST: 'pve.env', PVE_BRIDGE: 'vmbr1', PATH: '/bin' };
    expect((await loadLab(dir)).errors.map(formatDiagnostic)).toEqual(['lab.yaml:3:3 proxmox.endpoint: is required']);
    const first = await loadLab(dir, { env });
    expect(first.lab?.config.defaults.bridge).toBe('vmbr1');
    expect(await loadLab(dir, { env })).toEqual(first);
    const other = await loadLab(dir, { env: { ...env, PVE_BRIDGE: 'vmbr2' } });
    expect(other.lab?.config.defaults.bridge).toBe('vmbr2');
    expect(other.envFallbacks?.map(formatEnvFallback)).toEqual([
      'PVE_ACCESS_HOST from the environment filled proxmox.endpoint: https://pve.env:8006',
      'PVE_BRIDGE from the environment filled defaults.bridge: vmbr2',
    ]);
  });
});
