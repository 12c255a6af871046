import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSim, type RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ahl, writeTree } from './helpers.js';

const SECRET = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

describe('ahl runway', () => {
  let sim: RunningSim;
  let dir: string;

  beforeAll(async () => {
    sim = await startSim({
      https: true,
      authFailureDelayMs: 0,
      statsLagMs: 0,
      seed: {
        nodes: [{ name: 'pve1', bridges: [{ iface: 'vmbr0', cidr: '10.0.0.2/24' }] }],
        storages: [
          { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'import', 'snippets'], size: 100 },
          { id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 100 },
        ],
        users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
        acl: [{ path: '/', roles: ['PVEAuditor'], users: ['ahl@pve'] }],
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'ahl-cli-runway-'));
    const files: Record<string, string> = {
      'lab.yaml': `name: cli-runway\nproxmox:\n  endpoint: ${sim.url}\n  tokenId: ahl@pve!ahl\n  tokenSecret: env:PM_TOKEN_SECRET\n  tls:\n    fingerprint: "${sim.fingerprint}"\nnodes:\n  pve1: {}\ndefaults:\n  storage: {vm: local-lvm, iso: local, snippets: local}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]\n`,
      'images/deb.yaml': 'os: {family: debian, release: bookworm}\nsource:\n  url: https://images.test/deb.qcow2\n  checksumUrl: https://images.test/SHA512SUMS\n',
      'personas/web.yaml': 'template: deb@stable\nhosts:\n  web-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n',
    };
    writeTree(dir, files);
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('fails (exit 1) for an auditor token, prints the table and the role, writes the artifact, never the secret', async () => {
    const r = await ahl(['runway', '--dir', dir], { env: { PM_TOKEN_SECRET: SECRET } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^runway cli-runway → https:\/\/127\.0\.0\.1:\d+$/m);
    expect(r.stderr).toMatch(/^FAIL {2}privileges +\d+ privileges missing: /m);
    expect(r.stderr).toContain('pveum role add AhlLab -privs');
    expect(r.stderr).toMatch(/^FAIL \d+ passed, 1 warning, 1 failed$/m);
    const artifact = JSON.parse(readFileSync(join(dir, 'artifacts', 'runway.json'), 'utf8')) as { status: string };
    expect(artifact.status).toBe('FAIL');
    expect(r.stdout + r.stderr + readFileSync(join(dir, 'artifacts', 'runway.json'), 'utf8')).not.toContain(SECRET);
  });

  it('--json prints the report on stdout', async () => {
    const r = await ahl(['runway', '--json', '--dir', dir], { env: { PM_TOKEN_SECRET: SECRET } });
    const doc = JSON.parse(r.stdout) as { status: string; checks: { id: string }[] };
    expect(doc.status).toBe('FAIL');
    expect(doc.checks.map((c) => c.id)).toContain('bridge:pve1/vmbr0');
  });

  it('names the missing secret and exits 1 without contacting anything', async () => {
    const r = await ahl(['runway', '--dir', dir], { env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SECRET_MISSING: secret env:PM_TOKEN_SECRET (for proxmox.tokenSecret) is not set');
  });

  it('exits 2 when the lab is invalid', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'ahl-cli-runway-bad-'));
    writeFileSync(join(bad, 'lab.yaml'), 'name: Bad Name\n');
    const r = await ahl(['runway', '--dir', bad], { env: { PM_TOKEN_SECRET: SECRET } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the runway was not checked: the lab is invalid');
  });
});
