import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLab, Secrets, connectLab, type Lab, type ProxmoxClient } from '@ahl/core';
import { startSim, type RunningSim, type SeedConfig } from '@ahl/pve-sim';

export const TOKEN_ID = 'ahl@pve!ahl';
export const TOKEN_SECRET = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
export const AUDIT_SECRET = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';

/** A one-node cluster shaped like a small home lab. */
export function seed(extra: Partial<SeedConfig> = {}): SeedConfig {
  return {
    pveVersion: '9.1.1',
    seed: 7,
    nodes: [{ name: 'pve1', ip: '10.0.0.2', bridges: [{ iface: 'vmbr0', cidr: '10.0.0.2/24', gateway: '10.0.0.1', ports: 'eno1' }] }],
    storages: [
      { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'import', 'backup', 'snippets', 'vztmpl'], size: 100 },
      { id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], size: 200 },
    ],
    users: [
      { id: 'ahl@pve', tokens: [{ id: 'ahl', secret: TOKEN_SECRET, privsep: true }, { id: 'audit', secret: AUDIT_SECRET, privsep: true }] },
    ],
    acl: [
      { path: '/', roles: ['Administrator'], users: ['ahl@pve'], tokens: ['ahl@pve!ahl'] },
      { path: '/', roles: ['PVEAuditor'], tokens: ['ahl@pve!audit'] },
    ],
    ...extra,
  };
}

export interface Fixture {
  sim: RunningSim;
  lab: Lab;
  client: ProxmoxClient;
  dir: string;
  close(): Promise<void>;
}

/** Starts a sim and writes a lab pointing at it; `edit` changes the lab files before loading. */
export async function fixture(opts: { seed?: SeedConfig; https?: boolean; tokenId?: string; secret?: string; fingerprint?: string; edit?: (files: Record<string, string>) => void } = {}): Promise<Fixture> {
  const sim = await startSim({ seed: opts.seed ?? seed(), https: opts.https ?? false, authFailureDelayMs: 0, taskDurationMs: 20, statsLagMs: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'ahl-runway-'));
  const pin = opts.fingerprint ?? sim.fingerprint;
  const files: Record<string, string> = {
    'lab.yaml': [
      'name: runway-test',
      'proxmox:',
      `  endpoint: ${sim.url}`,
      `  tokenId: ${opts.tokenId ?? TOKEN_ID}`,
      '  tokenSecret: env:AHL_TEST_TOKEN',
      ...(pin ? ['  tls:', `    fingerprint: "${pin}"`] : []),
      'nodes:',
      '  pve1: {}',
      'defaults:',
      '  storage: {vm: local-lvm, iso: local, import: local, snippets: local, backup: local}',
      'cloudInit:',
      '  sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]',
      '',
    ].join('\n'),
    'images/ubuntu-noble.yaml': 'os: {family: ubuntu, release: noble}\nsource:\n  url: https://images.test/noble.img\n  checksumUrl: https://images.test/SHA256SUMS\ntemplate: {node: pve1, storage: local-lvm}\n',
    'personas/docker.yaml':
      'template: ubuntu-noble@stable\nresources: {cores: 2, memory: 2048, disk: 16}\nhosts:\n  docker-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n  docker-02: {node: pve1, ip: 10.0.0.32/24, gateway: 10.0.0.1, vmid: 302}\n',
  };
  opts.edit?.(files);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const { lab, errors } = await loadLab(dir);
  if (!lab) throw new Error(`fixture lab invalid: ${JSON.stringify(errors)}`);
  const secrets = new Secrets({ env: { AHL_TEST_TOKEN: opts.secret ?? TOKEN_SECRET }, baseDir: dir });
  const client = await connectLab(lab.config, secrets, dir, 5000);
  return {
    sim,
    lab,
    client,
    dir,
    async close() {
      await client.close();
      await sim.stop();
    },
  };
}
