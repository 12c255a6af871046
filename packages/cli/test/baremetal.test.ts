import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLab, type Lab } from '@ahl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildGraph, buildStatus, diffLabs, planPower } from '@ahl/ops';
import { prerequisites } from '../../../test-support/prerequisites.js';
import { ahl, REPO } from './helpers.js';

/** The example lab's bare-metal host (devops-nuc) through every command that knows about VMs. */
describe('a bare-metal host', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = (await loadLab(REPO)).lab!;
  });

  it('is never missing, has no node or template in status, and is not powered through Proxmox', () => {
    const report = buildStatus({ lab, guests: [], records: new Map(), states: new Map(), now: new Date('2026-11-26T00:00:00Z'), calls: 1 });
    const byName = new Map(report.hosts.map((h) => [h.host, h]));
    expect(byName.get('devops-nuc')).toMatchObject({ runtime: 'baremetal', drift: [] });
    expect(byName.get('devops-nuc')).not.toHaveProperty('node');
    expect(byName.get('devops-nuc')).not.toHaveProperty('template');
    expect(byName.get('devops-01')!.drift).toEqual(['missing']);
    const steps = planPower('reboot', lab.hosts.filter((h) => h.persona === 'devops'), []);
    expect(steps.map((s) => [s.host, s.act, s.reason])).toEqual([
      ['devops-01', false, 'no VM on the server'],
      ['devops-nuc', false, 'bare metal: not powered through Proxmox'],
    ]);
  });

  it('hangs off "bare metal" in the graph, with no template edge', () => {
    const g = buildGraph(lab, ['devops-nuc']);
    expect(g.edges).toEqual([
      { from: 'host:devops-nuc', to: 'persona:devops', kind: 'is' },
      { from: 'node:(bare metal)', to: 'host:devops-nuc', kind: 'runs' },
    ]);
  });

  it('is added without a VM, and removed without destroying anything', () => {
    const without = { ...lab, hosts: lab.hosts.filter((h) => h.name !== 'devops-nuc') };
    const side = (l: Lab) => ({ lab: l, stackDigests: new Map<string, string>() });
    const added = diffLabs(side(without), side(lab), { base: 'a', head: 'b' });
    expect(added.hosts).toEqual([{ host: 'devops-nuc', persona: 'devops', status: 'added', changes: [{ layer: 'L3', path: 'host', after: 'devops, bare metal', action: 'create', note: 'seed it with `ahl image seed`, then L3 and L4 converge it' }] }]);
    const removed = diffLabs(side(lab), side(without), { base: 'a', head: 'b' });
    expect(removed.counts.dangerous).toBe(0);
    expect(removed.hosts[0]!.changes.map((c) => [c.action, c.note])).toEqual([['destroy', 'no longer managed; the machine itself is left as it is']]);
  });

  it('ahl image seed: prints the documents, refuses a VM', async () => {
    const printed = await ahl(['image', 'seed', 'devops-nuc', '--print', '--dir', REPO]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/^# ---- meta-data\ninstance-id: ahl-devops-nuc-[0-9a-f]{12}\n/);
    expect(printed.stdout).toContain('# ---- network-config\nversion: 2\n');
    const vm = await ahl(['image', 'seed', 'devops-01', '--dir', REPO]);
    expect(vm.code).toBe(2);
    expect(vm.stderr).toContain('"devops-01" is a VM: Proxmox gives it its cloud-init drive; seeds are for hosts with runtime: baremetal');
  });

  prerequisites([
    spawnSync('sh', ['-c', 'command -v genisoimage']).status !== 0 && 'genisoimage (apt package genisoimage; bash scripts/bootstrap installs it)',
  ]).it('ahl image seed: writes the ISO', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'ahl-cli-seed-')), 'nuc.iso');
    const r = await ahl(['image', 'seed', 'devops-nuc', '--output', out, '--dir', REPO], { env: { PATH: process.env.PATH } });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(r.stderr).toContain('the cidata seed of devops-nuc (192.168.1.41/24 on 1C:69:7A:0A:41:0E)');
  });
});
