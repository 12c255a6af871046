import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ahl, fakePlaybook, oneNodeSim, writeTree } from './helpers.js';

// `ahl plan` and `ahl drift` take no lab lock, so an `ahl apply --approve` may be running beside
// them: they must never render, init or plan in .ahl/terraform, the folder it applies from.
// Terraform is a stand-in that records the folder it ran in.

const SECRET = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';

const STAND_IN = (log: string) => `#!${process.execPath}
const { appendFileSync, mkdirSync, writeFileSync } = require('node:fs');
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(log)}, JSON.stringify({ cwd: process.cwd(), command: args[0] }) + '\\n');
if (args[0] === 'init') mkdirSync('.terraform', { recursive: true });
if (args[0] === 'plan') writeFileSync(args.find((a) => a.startsWith('-out=')).slice(5), 'a stand-in plan');
if (args[0] === 'show')
  process.stdout.write(JSON.stringify({ resource_changes: [{ address: 'proxmox_virtual_environment_vm.web-01', type: 'proxmox_virtual_environment_vm', mode: 'managed', name: 'web-01', change: { actions: ['no-op'], before: {}, after: {} } }] }));
process.exit(0);
`;

describe('ahl plan and ahl drift leave the apply folder alone (stand-in terraform)', () => {
  let sim: RunningSim;
  let dir: string;
  let log: string;
  let env: Record<string, string>;
  const shared = () => join(dir, '.ahl', 'terraform');
  const APPLYING = { 'main.tf.json': '{"the module": "an apply is using"}\n', 'ahl.tfplan': 'the plan an apply is applying' };

  beforeAll(async () => {
    sim = await oneNodeSim(SECRET, [
      { vmid: 9000, name: 'noble-20261101-120000', template: true, config: { tags: 'ahl;template' } },
      { vmid: 301, name: 'web-01', running: true, config: { tags: 'ahl;web' } },
    ]);
    const manifest = { image: 'noble', version: '20261101-120000', vmid: 9000, node: 'pve1', storage: 'local-lvm', templateName: 'noble-20261101-120000', source: { url: 'https://x.example/noble.img' }, specDigest: 'x', toolVersion: 't', createdAt: '2026-11-01T12:00:00Z' };
    dir = writeTree(mkdtempSync(join(tmpdir(), 'ahl-cli-plan-dir-')), {
      'lab.yaml': `name: cli-plan-dir\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T"}\nnodes: {pve1: {}}\ndefaults: {storage: {vm: local-lvm, iso: local, import: local, snippets: local}}\ncloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}\n`,
      'images/noble.yaml': `os: {family: ubuntu, release: noble}\nsource: {url: "https://x.example/noble.img", checksum: "sha256:${'0'.repeat(64)}"}\ntemplate: {vmid: 9000}\n`,
      'images/noble/artifacts/20261101-120000.json': JSON.stringify(manifest),
      'images/noble/channels.json': JSON.stringify({ channels: { stable: '20261101-120000' } }),
      'personas/web.yaml': 'template: noble@stable\nsystem: {packages: [tree]}\nhosts:\n  web-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n',
      ...Object.fromEntries(Object.entries(APPLYING).map(([n, t]) => [join('.ahl', 'terraform', n), t])),
    });
    log = join(dir, 'terraform.log');
    const bin = join(dir, 'terraform');
    writeFileSync(bin, STAND_IN(log));
    chmodSync(bin, 0o755);
    env = { T: SECRET, AHL_TERRAFORM: bin, AHL_CACHE_DIR: join(dir, 'cache'), AHL_ANSIBLE_PLAYBOOK: fakePlaybook({ 'web-01': [] }) };
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it.each([
    ['ahl drift', ['drift', '--layer', 'L2']],
    ['ahl plan', ['plan', 'web']],
  ])('%s', async (_name, argv) => {
    writeFileSync(log, '');
    const r = await ahl([...argv, '--dir', dir], { env });
    expect(r.stderr).not.toContain('INTERNAL');
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { cwd: string; command: string });
    expect(calls.map((c) => c.command)).toEqual(['init', 'state', 'plan', 'show']);
    for (const c of calls) expect(c.cwd).toMatch(new RegExp(`^${join(dir, '.ahl')}/terraform-plan\\.\\d+\\.[0-9a-f]{8}$`));
    // The folder an apply works in is as it was; the run's own folder is gone.
    expect(Object.fromEntries(readdirSync(shared()).map((n) => [n, readFileSync(join(shared(), n), 'utf8')]))).toEqual(APPLYING);
    expect(existsSync(calls[0]!.cwd)).toBe(false);
    expect(readdirSync(join(dir, '.ahl')).filter((n) => n.startsWith('terraform-plan.'))).toEqual([]);
  });
});
