import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectLab, loadLab, Secrets, type Lab, type ProxmoxClient } from '@ahl/core';
import { startSim, type RunningSim, type SeedConfig } from '@ahl/pve-sim';

export const SECRET = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/** A loopback HTTP server with a fake cloud image and its SHA256SUMS. */
export async function imageServer(bytes = 256 * 1024): Promise<{ url: string; sumsUrl: string; digest: string; body: Buffer; setBody(b: Buffer): void; close(): Promise<void> }> {
  let body: Buffer = randomBytes(bytes);
  const digest = () => createHash('sha256').update(body).digest('hex');
  const server: Server = createServer((req, res) => {
    if (req.url === '/cloud/noble.img') res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
    else if (req.url === '/cloud/SHA256SUMS') res.writeHead(200).end(`${digest()} *noble.img\n0000000000000000000000000000000000000000000000000000000000000000 *other.img\n`);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/cloud/noble.img`,
    sumsUrl: `http://127.0.0.1:${port}/cloud/SHA256SUMS`,
    get digest() {
      return `sha256:${digest()}`;
    },
    get body() {
      return body;
    },
    setBody(b: Buffer) {
      body = b;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export function simSeed(): SeedConfig {
  return {
    nodes: [{ name: 'pve1', bridges: [{ iface: 'vmbr0', cidr: '10.0.0.2/24' }] }],
    storages: [
      { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'import', 'snippets', 'backup'], size: 100 },
      { id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 200 },
      { id: 'tank', type: 'zfspool', pool: 'tank', content: ['images'], size: 200 },
    ],
    users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
    acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
  };
}

export interface L1Fixture {
  sim: RunningSim;
  lab: Lab;
  client: ProxmoxClient;
  dir: string;
  reload(): Promise<Lab>;
  close(): Promise<void>;
}

export async function fixture(source: { url: string; checksum?: string; checksumUrl?: string }, seed: SeedConfig = simSeed(), templateStorage = 'local-lvm'): Promise<L1Fixture> {
  const sim = await startSim({ seed, https: false, authFailureDelayMs: 0, taskDurationMs: 20, statsLagMs: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'ahl-image-'));
  const files: Record<string, string> = {
    'lab.yaml': `name: img\nproxmox:\n  endpoint: ${sim.url}\n  tokenId: ahl@pve!ahl\n  tokenSecret: env:T\nnodes:\n  pve1: {}\ndefaults:\n  storage: {vm: local-lvm, iso: local, import: local, backup: local}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]\n`,
    'images/ubuntu-noble.yaml': `os: {family: ubuntu, release: noble}\nsource:\n  url: ${source.url}\n${source.checksum ? `  checksum: ${source.checksum}\n` : `  checksumUrl: ${source.checksumUrl}\n`}template: {node: pve1, storage: ${templateStorage}, vmid: 9000}\ntags: [ubuntu]\n`,
    'personas/docker.yaml': 'template: ubuntu-noble@stable\nhosts:\n  docker-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const load = async () => {
    const { lab, errors } = await loadLab(dir);
    if (!lab) throw new Error(JSON.stringify(errors));
    return lab;
  };
  const lab = await load();
  const client = await connectLab(lab.config, new Secrets({ env: { T: SECRET }, baseDir: dir }), dir);
  return {
    sim,
    lab,
    client,
    dir,
    reload: load,
    async close() {
      await client.close();
      await sim.stop();
    },
  };
}
