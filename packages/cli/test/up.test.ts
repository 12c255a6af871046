import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ahl, fakePlaybook, oneNodeSim, writeTree } from './helpers.js';

// Without Terraform: L2 says what is missing and blocks; the rest of the plan is still shown.
// (With the real terraform and provider: up.stand-in-ansible.test.ts.)

const SECRET = '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e';

describe('ahl up without terraform (stand-in ansible-playbook)', () => {
  let sim: RunningSim;
  let dir: string;

  beforeAll(async () => {
    sim = await oneNodeSim(SECRET, [
      { vmid: 9000, name: 'noble-20261101-120000', template: true, config: { tags: 'ahl;template' } },
      { vmid: 301, name: 'web-01', running: true, config: { tags: 'ahl;web' } },
    ]);
    const manifest = { image: 'noble', version: '20261101-120000', vmid: 9000, node: 'pve1', storage: 'local-lvm', templateName: 'noble-20261101-120000', source: { url: 'https://x.example/noble.img' }, specDigest: 'x', toolVersion: 't', createdAt: '2026-11-01T12:00:00Z' };
    dir = writeTree(mkdtempSync(join(tmpdir(), 'ahl-cli-up-')), {
      'lab.yaml': `name: cli-up\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T"}\nnodes: {pve1: {}}\ndefaults: {storage: {vm: local-lvm, iso: local, import: local, snippets: local}}\ncloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}\n`,
      'images/noble.yaml': `os: {family: ubuntu, release: noble}\nsource: {url: "https://x.example/noble.img", checksum: "sha256:${'0'.repeat(64)}"}\ntemplate: {vmid: 9000}\n`,
      'images/noble/artifacts/20261101-120000.json': JSON.stringify(manifest),
      'images/noble/channels.json': JSON.stringify({ channels: { stable: '20261101-120000' } }),
      'personas/web.yaml': 'template: noble@stable\nsystem: {packages: [tree]}\nhosts:\n  web-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n  web-02: {node: pve1, ip: 10.0.0.32/24, gateway: 10.0.0.1, vmid: 302}\n',
    });
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('blocks L2, naming what to install, and puts it first in the review comment', async () => {
    const env = { T: SECRET, AHL_TERRAFORM: join(dir, 'no-terraform-here'), AHL_ANSIBLE_PLAYBOOK: fakePlaybook({ 'web-01': [] }) };
    const r = await ahl(['plan', 'web', '--format', 'markdown', '--dir', dir], { env });
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').slice(0, 8)).toEqual([
      '### ahl plan: `cli-up` (web)',
      '',
      '**1 blocked** — nothing was changed; `ahl up --approve` applies it',
      '',
      '#### ⚠️ Needs attention',
      '',
      '- **L2 instances**: blocked — neither terraform nor tofu was found: install Terraform 1.6+ or OpenTofu and put it on PATH, or set AHL_TERRAFORM to its path',
      '',
    ]);
    expect(r.stdout).toContain('| L2 instances | ✗ blocked | web-02: no VM yet |');
    expect(r.stdout).toContain('| L3 system | ✓ ok | web-01: in sync<br>after L2: web-02 |');
  });

  it('ahl apply says the same, exit 2', async () => {
    const r = await ahl(['apply', '--dir', dir], { env: { T: SECRET, AHL_TERRAFORM: join(dir, 'no-terraform-here') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('TERRAFORM_NOT_FOUND: neither terraform nor tofu was found');
    expect(r.stderr).toContain('nothing was changed');
  });
});
