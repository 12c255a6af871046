import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connectLab, loadLab, Redactor, Secrets, type Lab, type ProxmoxClient } from '@ahl/core';
import type { RunwayReport } from '@ahl/l0-runway';
import type { HostAction, L2Outcome } from '@ahl/l2-instantiate';
import { startSim, type RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareRebuild, RebuildOutputSchema, runReconcile, runRebuild, runUp, UpRunSchema, type AnsibleHost, type UpRunners } from '../src/index.js';

/** What the CLI prints with --json, checked against its published schema. */
const printed = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

// Unit tier, with stand-ins: the workflows' own logic (order, stopping, items, the rebuild record)
// over pve-sim for the status read, with the layers' runners replaced by recorders. The real
// runners are driven by the CLI's tests, the layers' tool tests and the local-lab e2e test.

const SECRET = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const V = '20261120-120000';

function fakeL2(actions: Record<string, HostAction>, applied = false): L2Outcome {
  const hosts = Object.entries(actions).map(([host, action]) => ({ host, address: `proxmox_virtual_environment_vm.${host}`, action, changes: [], replaceBecause: action === 'replace' ? ['clone'] : [], drift: [], resizes: [] }));
  const counts = { create: 0, update: 0, replace: 0, delete: 0, 'no-op': 0 } as Record<HostAction, number>;
  for (const h of hosts) counts[h.action]++;
  return {
    ws: {} as L2Outcome['ws'],
    plan: { summary: { hosts, counts, changes: hosts.some((h) => h.action !== 'no-op') }, planFile: '', rendered: [], unresolved: [], targeted: true, warnings: [] },
    ...(applied ? { applied: { hosts: hosts.map((h) => ({ host: h.host, action: h.action, state: 'done' })), durationMs: 1 } as unknown as NonNullable<L2Outcome['applied']> } : {}),
  };
}

const report = (fail = 0): RunwayReport => ({ status: fail ? 'FAIL' : 'PASS', checks: [], summary: { pass: 3, warn: 0, fail } }) as unknown as RunwayReport;
const ansible = (hosts: readonly string[], status: AnsibleHost['status'] = 'changed'): AnsibleHost[] => hosts.map((host) => ({ host, status, changed: status === 'changed' ? [{}] : [] }));

describe('ops workflows (stand-in runners)', () => {
  let sim: RunningSim;
  let lab: Lab;
  let secrets: Secrets;
  let client: ProxmoxClient;
  const calls: string[] = [];
  const runners = (over: Partial<UpRunners> = {}): UpRunners => ({
    runway: async () => (calls.push('runway'), report()),
    l2: async (o) => (calls.push(`l2 ${o.hosts.join(',')}`), fakeL2({ 'web-01': 'no-op', 'web-02': 'create' }, typeof o.approve === 'function' && o.approve(fakeL2({ 'web-02': 'create' }).plan))),
    system: async (o) => (calls.push(`system ${o.targets.join(',')} check=${o.check}${o.waitHosts ? ` wait=${o.waitHosts.join(',')}` : ''}`), ansible(o.targets)),
    workload: async (o) => (calls.push(`workload ${o.targets.join(',')}`), ansible(o.targets, 'ok')),
    ...over,
  });
  const up = (approve: boolean, over?: Partial<UpRunners>) => runUp(lab, lab.hosts, { approve, client, secrets, runners: runners(over), toolVersion: 't', warn: () => {} });

  beforeAll(async () => {
    sim = await startSim({
      https: false,
      authFailureDelayMs: 0,
      statsLagMs: 0,
      taskDurationMs: 10,
      seed: {
        nodes: [{ name: 'pve1', bridges: [{ iface: 'vmbr0' }] }],
        storages: [{ id: 'local', type: 'dir', path: '/var/lib/vz', content: ['import', 'iso', 'snippets'], size: 50 }, { id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 100 }],
        users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
        acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
        guests: [
          { vmid: 9001, name: `deb-${V}`, template: true, config: { tags: 'ahl-template' } },
          { vmid: 301, name: 'web-01', running: true, config: { tags: 'ahl;web' } },
        ],
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'ahl-ops-workflows-'));
    const files: Record<string, string> = {
      'lab.yaml': `name: ops-workflows\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T"}\nnodes: {pve1: {}}\ndefaults: {storage: {vm: local-lvm, iso: local, import: local, snippets: local}}\ncloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}\n`,
      'images/deb.yaml': 'os: {family: debian, release: bookworm}\nsource: {url: "https://x.example/deb.qcow2", checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}\ntemplate: {vmid: 9001}\n',
      'images/deb/channels.json': JSON.stringify({ channels: { stable: V } }),
      [`images/deb/artifacts/${V}.json`]: JSON.stringify({ image: 'deb', version: V, vmid: 9001, node: 'pve1', storage: 'local-lvm', templateName: `deb-${V}`, source: { url: 'https://x.example/deb.qcow2' }, specDigest: 'x', toolVersion: 't', createdAt: '2026-11-20T12:00:00Z' }),
      'stacks/app/compose.yaml': 'services:\n  app: {image: "nginx:1"}\n',
      'personas/web.yaml': 'template: deb@stable\nsystem: {containerEngine: {kind: docker}}\nworkloads: [{stack: app}]\nhosts:\n  web-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n  web-02: {node: pve1, ip: 10.0.0.32/24, gateway: 10.0.0.1, vmid: 302}\n',
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, p)), { recursive: true });
      writeFileSync(join(dir, p), text);
    }
    const loaded = await loadLab(dir, { cache: false });
    expect(loaded.errors).toEqual([]);
    lab = loaded.lab!;
    secrets = new Secrets({ env: { T: SECRET }, baseDir: dir }, new Redactor());
    client = await connectLab(lab.config, secrets, lab.root);
  });

  afterAll(async () => {
    await client?.close();
    await sim?.stop();
  });

  it('up without approve plans every layer, checks L3 and L4 on the VM that exists, and leaves the new one for after L2', async () => {
    calls.length = 0;
    const r = await up(false);
    expect(r).toMatchObject({ approved: false, ok: true });
    expect(UpRunSchema.parse(printed(r))).toEqual(printed(r));
    expect(r.layers.map((l) => [l.layer, l.state, l.items])).toEqual([
      ['L0', 'ok', ['3 passed, 0 warned, 0 failed']],
      ['L1', 'ok', ['every template the hosts follow is built']],
      ['L2', 'planned', ['web-01: vmid 301 on pve1, running', `web-02: create (vmid 302 on pve1, 2 cores, 2048 MiB, 32 GiB)`]],
      ['L3', 'planned', ['web-01: would change (1)', 'after L2: web-02']],
      ['L4', 'ok', ['web-01: in sync', 'after L2: web-02']],
    ]);
    expect(calls).toEqual(['runway', 'l2 web-01,web-02', 'system web-01 check=true', 'workload web-01']);
  });

  it('up --approve converges what L2 created once it booted, and stops at a layer that would replace a VM', async () => {
    calls.length = 0;
    const done = await up(true);
    expect(done.layers.map((l) => [l.layer, l.state])).toEqual([['L0', 'ok'], ['L1', 'ok'], ['L2', 'done'], ['L3', 'done'], ['L4', 'done']]);
    expect(calls.slice(2)).toEqual(['system web-01,web-02 check=false wait=web-02', 'workload web-01,web-02']);

    calls.length = 0;
    const held = await up(true, { l2: async () => (calls.push('l2'), fakeL2({ 'web-01': 'replace', 'web-02': 'create' })) });
    expect(held.ok).toBe(false);
    expect(UpRunSchema.safeParse(printed(held)).success).toBe(true);
    expect(held.layers.map((l) => [l.layer, l.state])).toEqual([['L0', 'ok'], ['L1', 'ok'], ['L2', 'blocked'], ['L3', 'not run'], ['L4', 'not run']]);
    expect(held.layers[2]!.note).toBe('web-01 would be replaced: up never replaces or destroys a VM; take a backup, then ahl apply web-01 --approve');
    expect(calls).toEqual(['runway', 'l2']);
  });

  it('a failed runway stops even a plan', async () => {
    const r = await up(false, { runway: async () => report(1) });
    expect(r.layers.map((l) => l.state)).toEqual(['failed', 'not run', 'not run', 'not run', 'not run']);
  });

  it('reconcile makes the safe steps only, and with apply false lists what waits for approval', async () => {
    calls.length = 0;
    const steps = [
      { layer: 'L2', command: 'apply', hosts: ['web-01'], safe: true, why: '' },
      { layer: 'L1', command: 'rebuild', hosts: ['web-02'], safe: false, why: '' },
    ] as const;
    const o = { secrets, redactor: secrets.redactor, env: {}, warn: () => {}, l2: async (x: { hosts: readonly string[] }) => (calls.push(`l2 ${x.hosts.join(',')}`), fakeL2({ 'web-01': 'update' }, true)) };
    expect(await runReconcile(lab, steps, { ...o, apply: true })).toEqual([
      { layer: 'L2', host: 'web-01', result: 'reconciled', detail: 'adopted' },
      { layer: 'L1', host: 'web-02', result: 'awaiting approval', detail: 'ahl rebuild web-02' },
    ]);
    expect(await runReconcile(lab, steps, { ...o, apply: false })).toEqual([{ layer: 'L1', host: 'web-02', result: 'awaiting approval', detail: 'ahl rebuild web-02' }]);
    expect(calls).toEqual(['l2 web-01']);
  });

  it('rebuild records each phase; a failure stops there, and the resumed rebuild carries on from it', async () => {
    const host = lab.hosts.find((h) => h.name === 'web-01')!;
    const effects = { redactor: secrets.redactor, env: {} };
    const p = await prepareRebuild(lab, secrets, host, { ...effects, resume: false });
    // No backup target in this lab: nothing to back up or restore.
    expect(p.plan.phases.map((x) => x.phase)).toEqual(['recreate', 'system', 'workload']);
    expect(p.plan.vm).toEqual({ vmid: 301, node: 'pve1', power: 'running' });
    expect(RebuildOutputSchema.safeParse(printed({ approved: false, plan: p.plan })).success).toBe(true);
    const phases: string[] = [];
    let systemFails = true;
    const o = {
      ...effects,
      warn: () => {},
      onPhase: (e: { phase: string; ms?: number; failure?: string }) => phases.push(`${e.phase}${e.failure ? ` failed: ${e.failure}` : e.ms !== undefined ? ' done' : ''}`),
      runners: {
        l2: async () => fakeL2({ 'web-01': 'replace' }, true),
        system: async (x: { targets: string[] }) => ansible(x.targets, systemFails ? 'unreachable' : 'changed'),
        workload: async (x: { targets: string[] }) => ansible(x.targets, 'ok'),
      },
    };
    const first = await runRebuild(lab, p, o);
    expect(first).toMatchObject({ ok: false, aborted: false, record: { done: ['recreate'], failed: { phase: 'system', message: 'the system converge unreachable' } } });
    expect(phases).toEqual(['recreate', 'recreate done', 'system', 'system failed: the system converge unreachable']);
    expect(RebuildOutputSchema.safeParse(printed({ approved: true, ok: first.ok, record: first.record })).success).toBe(true);
    expect(JSON.parse(readFileSync(p.file, 'utf8'))).toMatchObject({ done: ['recreate'], template: V });

    await expect(prepareRebuild(lab, secrets, host, { ...effects, resume: false })).rejects.toMatchObject({ code: 'USAGE' });
    systemFails = false;
    phases.length = 0;
    const again = await runRebuild(lab, await prepareRebuild(lab, secrets, host, { ...effects, resume: true }), o);
    expect(again).toMatchObject({ ok: true, record: { done: ['recreate', 'system', 'workload'] } });
    expect(again.record.failed).toBeUndefined();
    expect(RebuildOutputSchema.safeParse(printed({ approved: true, ok: again.ok, record: again.record })).success).toBe(true);
    expect(phases).toEqual(['system', 'system done', 'workload', 'workload done']);
  });
});
