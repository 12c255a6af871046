import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { isAhlError, loadLab, Redactor, Secrets, type Lab } from '@ahl/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyPlan, openPlanDir, planHosts, prepareWorkspace, terraformDir } from '../src/index.js';

// `ahl plan` and `ahl drift` take no lab lock: what they render must never land in the folder an
// `ahl apply --approve` beside them plans and applies from. Terraform is replaced by a stand-in that
// records where it ran and with what, and writes what the real one would (.terraform, the plan file).

const SECRET = '3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR op@ahl';

const STAND_IN = `#!${process.execPath}
const { appendFileSync, mkdirSync, writeFileSync } = require('node:fs');
const args = process.argv.slice(2);
appendFileSync(process.env.STAND_IN_LOG, JSON.stringify({ cwd: process.cwd(), command: args[0] }) + '\\n');
if (args[0] === 'init') mkdirSync('.terraform', { recursive: true });
if (args[0] === 'plan') writeFileSync(args.find((a) => a.startsWith('-out=')).slice(5), 'a stand-in plan');
if (args[0] === 'show')
  process.stdout.write(JSON.stringify({ resource_changes: [{ address: 'proxmox_virtual_environment_vm.docker-01', type: 'proxmox_virtual_environment_vm', mode: 'managed', name: 'docker-01', change: { actions: ['create'], before: null, after: {} } }] }));
process.exit(args[0] === 'plan' ? 2 : 0);
`;

function write(dir: string, files: Record<string, string>) {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

/** Every file under `dir` with its content, to prove nothing in it changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = `${statSync(p).mtimeMs} ${readFileSync(p, 'utf8')}`;
    }
  };
  walk(dir);
  return out;
}

const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());

describe('a run that only plans renders into a folder of its own (stand-in terraform)', () => {
  let dir: string;
  let log: string;
  let env: Record<string, string>;
  let lab: Lab;
  const secrets = () => new Secrets({ env: { T: SECRET }, baseDir: dir }, new Redactor());

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ahl-plan-dir-'));
    log = join(dir, 'stand-in.log');
    const bin = join(dir, 'bin', 'terraform');
    const manifest = { image: 'noble', version: '20261101-120000', vmid: 9000, node: 'pve1', storage: 'local-lvm', templateName: 'noble-20261101-120000', source: { url: 'https://cloud-images.example/noble.img', digest: 'sha256:00' }, specDigest: 'sha256:00', toolVersion: 'test', createdAt: '2026-11-01T12:00:00Z' };
    write(dir, {
      'bin/terraform': STAND_IN,
      'lab.yaml': `name: plan-dir\nproxmox: {endpoint: "https://127.0.0.1:8006", tokenId: "ahl@pve!ahl", tokenSecret: "env:T", tls: {verify: false}}\nnodes: {pve1: {}}\ndefaults: {storage: {vm: local-lvm, iso: local, import: local, snippets: local}}\ncloudInit: {user: lab, sshKeys: ["${KEY}"]}\n`,
      'images/noble.yaml': 'os: {family: ubuntu, release: noble}\nsource: {url: "https://cloud-images.example/noble.img", checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}\ntemplate: {vmid: 9000}\n',
      'images/noble/artifacts/20261101-120000.json': JSON.stringify(manifest),
      'images/noble/channels.json': JSON.stringify({ channels: { stable: '20261101-120000' }, history: {} }),
      'personas/docker.yaml': 'description: Docker hosts\ntemplate: noble@stable\nresources: {cores: 2, memory: 2048, disk: 16}\nhosts:\n  docker-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n',
    });
    chmodSync(bin, 0o755);
    env = { PATH: process.env.PATH ?? '', HOME: dir, AHL_CACHE_DIR: join(dir, 'cache'), AHL_TERRAFORM: bin, STAND_IN_LOG: log };
    const r = await loadLab(dir, { cache: false });
    expect(r.errors).toEqual([]);
    lab = r.lab!;
  });

  const calls = () =>
    readFileSync(log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { cwd: string; command: string });

  it('leaves the module and saved plan of an apply in .ahl/terraform untouched, and removes its own folder', async () => {
    // An `ahl apply --approve` is between its plan and its apply.
    const shared = terraformDir(lab);
    write(shared, { 'main.tf.json': '{"the module": "an apply is using"}\n', 'ahl.tfplan': 'the plan an apply is applying', '.terraform.lock.hcl': '# the provider the lab uses\n', '.terraform/ahl-init': 'stamp' });
    const before = snapshot(shared);

    const own = await openPlanDir(lab);
    expect(dirname(own.dir)).toBe(dirname(shared));
    expect(own.dir).not.toBe(shared);
    const ws = await prepareWorkspace(lab, secrets(), { env, dir: own.dir });
    const plan = await planHosts(ws);
    expect(plan.summary.hosts.map((h) => [h.host, h.action])).toEqual([['docker-01', 'create']]);
    expect(calls()).toEqual([
      { cwd: own.dir, command: 'init' },
      { cwd: own.dir, command: 'plan' },
      { cwd: own.dir, command: 'show' },
    ]);
    expect(readFileSync(join(own.dir, 'ahl.tfplan'), 'utf8')).toBe('a stand-in plan');
    // init picks the provider the lab already uses.
    expect(readFileSync(join(own.dir, '.terraform.lock.hcl'), 'utf8')).toBe('# the provider the lab uses\n');
    expect(snapshot(shared)).toEqual(before);

    // Such a plan is never applied.
    const refused = await applyPlan(ws, plan).catch((e: unknown) => e);
    expect(isAhlError(refused) && refused.code).toBe('INTERNAL');
    expect(calls().map((c) => c.command)).not.toContain('apply');

    // The module is the very text `ahl apply` renders (its state path is relative to a sibling folder).
    const module = readFileSync(join(own.dir, 'main.tf.json'), 'utf8');
    await own.dispose();
    expect(existsSync(own.dir)).toBe(false);
    const applying = await prepareWorkspace(lab, secrets(), { env });
    expect(applying.dir).toBe(shared);
    expect(readFileSync(join(shared, 'main.tf.json'), 'utf8')).toBe(module);
    expect(module).toContain('"path": "../state/terraform.tfstate"');
  });

  it('two plan-only runs at once get two folders', async () => {
    const [a, b] = await Promise.all([openPlanDir(lab), openPlanDir(lab)]);
    expect(a.dir).not.toBe(b.dir);
    await Promise.all([prepareWorkspace(lab, secrets(), { env, dir: a.dir }), prepareWorkspace(lab, secrets(), { env, dir: b.dir })]);
    expect(new Set(calls().map((c) => c.cwd))).toEqual(new Set([a.dir, b.dir]));
    expect(existsSync(terraformDir(lab))).toBe(false);
    await Promise.all([a.dispose(), b.dispose()]);
  });

  it('sweeps folders left by runs that are gone, never a live run\'s', async () => {
    const parent = dirname(terraformDir(lab));
    const gone = join(parent, `terraform-plan.${deadPid()}.0a0b0c0d`);
    const live = join(parent, `terraform-plan.${process.pid}.01020304`);
    write(gone, { 'ahl-owner.json': JSON.stringify({ pid: Number(gone.split('.').at(-2)), host: hostname() }), 'main.tf.json': '{}' });
    write(live, { 'ahl-owner.json': JSON.stringify({ pid: process.pid, host: hostname() }), 'main.tf.json': '{}' });
    const own = await openPlanDir(lab);
    expect(existsSync(gone)).toBe(false);
    expect(existsSync(live)).toBe(true);
    await own.dispose();
  });
});
