import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningSim } from '@ahl/pve-sim';
import { connectLab, loadLab, Secrets } from '@ahl/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import { UpRunSchema, type UpStep } from '@ahl/ops';
import { renderUp } from '../src/views/up.js';
import { ahl, fakePlaybook, missingForL2, oneNodeSim, servedImage, writeTree } from './helpers.js';

const SECRET = '7e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b';
const persona = 'template: noble@stable\nresources: {disk: 8}\nsystem: {packages: [tree]}\nhosts:\n  web-01: {node: pve1, ip: 10.0.0.31/24, gateway: 10.0.0.1, vmid: 301}\n  web-02: {node: pve1, ip: 10.0.0.32/24, gateway: 10.0.0.1, vmid: 302}\n';
type Layers = { approved: boolean; ok: boolean; layers: UpStep[] };

// Unit tier, with a stand-in: L2 runs the real terraform with the real bpg/proxmox provider against
// pve-sim, but ansible-playbook is a stand-in (fakePlaybook) that prints recorded events. So L3's
// states here are what ahl makes of those events, not what Ansible does on a host: that is
// packages/l3-system/test/converge.tool.test.ts (real ansible-playbook against real guests).
// Terraform makes these tests take tens of seconds (more on a cold or busy machine): hence the
// explicit timeouts, well above the unit tier's default.
const TIMEOUT = 10 * 60_000;

prerequisites(missingForL2()).describe('ahl up (stand-in ansible-playbook)', () => {
  let sim: RunningSim;
  let image: Awaited<ReturnType<typeof servedImage>>;
  let dir: string;
  // Terraform is found on PATH, and the provider in the cache under HOME (or AHL_CACHE_DIR).
  const env = { T: SECRET, PATH: process.env.PATH, HOME: process.env.HOME, ...(process.env.AHL_CACHE_DIR ? { AHL_CACHE_DIR: process.env.AHL_CACHE_DIR } : {}) };
  const states = (r: { stdout: string }) => (JSON.parse(r.stdout) as Layers).layers.map((l) => [l.layer, l.state]);
  const posts = () => Object.entries(sim.stats.snapshot()).filter(([k]) => k.startsWith('POST ') || k.startsWith('PUT ') || k.startsWith('DELETE ')).reduce((n, [, s]) => n + s.count, 0);

  beforeAll(async () => {
    image = await servedImage();
      // web-01's VM exists (made earlier); web-02's does not.
    sim = await oneNodeSim(SECRET, [{ vmid: 301, name: 'web-01', running: true, config: { tags: 'ahl;web' } }], true);
    dir = writeTree(mkdtempSync(join(tmpdir(), 'ahl-cli-up-')), {
      'lab.yaml': `name: cli-up\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T", tls: {verify: false, fingerprint: "${sim.fingerprint}"}}\nnodes: {pve1: {}}\ndefaults: {storage: {vm: local-lvm, iso: local, import: local, snippets: local}}\ncloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}\n`,
      'images/noble.yaml': `os: {family: ubuntu, release: noble}\nsource:\n  url: ${image.url}\n  checksum: ${image.checksum}\ntemplate: {vmid: 9000}\n`,
      'personas/web.yaml': persona,
    });
  }, TIMEOUT);

  afterAll(async () => {
    await sim?.stop();
    await image?.close();
  });

  it('without --approve shows every layer\'s plan, checks L3 on the hosts that exist, and changes nothing', async () => {
    const before = posts();
    const r = await ahl(['up', '--json', '--dir', dir], { env: { ...env, AHL_ANSIBLE_PLAYBOOK: fakePlaybook({ 'web-01': ['base : Install packages'] }) } });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Layers;
    expect(doc).toMatchObject({ approved: false, ok: true });
    // The output is what its published JSON Schema (ahl schema up) says.
    expect(UpRunSchema.parse(doc)).toEqual(doc);
    expect(doc.layers).toEqual([
      { layer: 'L0', name: 'runway', state: 'ok', items: [expect.stringMatching(/^\d+ passed, 1 warned, 0 failed$/)] },
      { layer: 'L1', name: 'images', state: 'planned', items: ['build noble for stable (web-01, web-02)'] },
      {
        layer: 'L2',
        name: 'instances',
        state: 'planned',
        items: ['web-01: vmid 301 on pve1, running; Terraform adopts it once L1 builds noble@stable', 'web-02: create once L1 builds noble@stable'],
      },
      { layer: 'L3', name: 'system', state: 'planned', items: ['web-01: would change (1)', 'after L2: web-02'] },
      { layer: 'L4', name: 'workload', state: 'ok', items: ['no selected host has workloads'] },
    ]);
    expect(posts()).toBe(before);
    expect(existsSync(join(dir, 'images/noble/channels.json'))).toBe(false);
  });

  it('ahl plan --format markdown: a review comment, what needs attention first', async () => {
    const r = await ahl(['plan', 'web', '--format', 'markdown', '--dir', dir], { env: { ...env, AHL_ANSIBLE_PLAYBOOK: fakePlaybook({ 'web-01': [] }) } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      '### ahl plan: `cli-up` (web)',
      '',
      '**2 planned** — nothing was changed; `ahl up --approve` applies it',
      '',
      '| layer | state | what |',
      '|---|---|---|',
      expect.stringMatching(/^\| L0 runway \| ✓ ok \| \d+ passed, 1 warned, 0 failed \|$/),
      '| L1 images | → planned | build noble for stable (web-01, web-02) |',
      '| L2 instances | → planned | web-01: vmid 301 on pve1, running; Terraform adopts it once L1 builds noble@stable<br>web-02: create once L1 builds noble@stable |',
      '| L3 system | ✓ ok | web-01: in sync<br>after L2: web-02 |',
      '| L4 workload | ✓ ok | no selected host has workloads |',
      '',
    ]);
    expect((await ahl(['plan', '--format', 'html', '--dir', dir], { env })).stderr).toContain('unknown format "html"; expected text or markdown');
  });

  it('--approve builds the template, adopts the VM that exists, creates the one missing, and converges both', async () => {
    const r = await ahl(['up', '--approve', '--json', '--dir', dir], { env: { ...env, AHL_ANSIBLE_PLAYBOOK: fakePlaybook({ 'web-01': [], 'web-02': ['base : Install packages'] }) } });
    expect(r.code, r.stdout).toBe(0);
    const layers = (JSON.parse(r.stdout) as Layers).layers;
    expect(states(r)).toEqual([
      ['L0', 'ok'],
      ['L1', 'done'],
      ['L2', 'done'],
      ['L3', 'done'],
      ['L4', 'ok'],
    ]);
    expect(layers[1]!.items).toEqual([expect.stringMatching(/^built noble-\d{8}-\d{6} \(vmid 9000\)$/)]);
    expect(layers[2]!.items).toEqual([expect.stringMatching(/^web-01: adopted( in \d+ s)?$|^web-01: updated( in \d+ s)?$/), expect.stringMatching(/^web-02: created( in \d+ s)?$/)]);
    expect(layers[3]!.items).toEqual(['web-01: ok', 'web-02: changed']);
    expect(sim.state.guests['302']?.config).toMatchObject({ name: 'web-02', ciuser: 'lab' });
    expect(existsSync(join(dir, '.ahl', 'lock'))).toBe(false);
    const st = JSON.parse((await ahl(['status', '--json', '--dir', dir], { env })).stdout);
    expect(st.hosts.map((h: { host: string; vm?: { vmid: number } }) => [h.host, h.vm?.vmid])).toEqual([
      ['web-01', 301],
      ['web-02', 302],
    ]);
  });

  it('brings an existing host up (L1 already built, L3 converged) and status remembers it', async () => {
    const r = await ahl(['up', 'web-01', '--approve', '--dir', dir], { env: { ...env, AHL_ANSIBLE_PLAYBOOK: fakePlaybook({ 'web-01': ['base : Install packages'] }) } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('✓ L1 images    ok\n    every template the hosts follow is built');
    expect(r.stderr).toContain('✓ L2 instances ok\n    web-01: vmid 301 on pve1, running');
    expect(r.stderr).toContain('✓ L3 system    done\n    web-01: changed');
    expect(r.stderr).not.toMatch(/web-02: /);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('every layer is done: `ahl status` shows the hosts');
    const st = JSON.parse((await ahl(['status', 'web-01', '--json', '--dir', dir], { env })).stdout);
    expect(st.hosts[0]).toMatchObject({ host: 'web-01', system: { status: 'changed' } });
  });

  it('a host that fails to converge stops the run at L3, as an event stream says', async () => {
    const r = await ahl(['up', 'web-01', '--approve', '--json', '--dir', dir], { env: { ...env, AHL_ANSIBLE_PLAYBOOK: fakePlaybook({}, ['web-01']) } });
    expect(r.code).toBe(1);
    expect(states(r)).toEqual([
      ['L0', 'ok'],
      ['L1', 'ok'],
      ['L2', 'ok'],
      ['L3', 'failed'],
      ['L4', 'not run'],
    ]);
    const events = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.filter((e) => e.type === 'progress' && String(e.step).startsWith('L')).map((e) => [e.step, e.status])).toEqual([
      ['L0 runway', 'start'],
      ['L0 runway', 'ok'],
      ['L1 images', 'start'],
      ['L1 images', 'ok'],
      ['L2 instances', 'start'],
      ['L2 instances', 'ok'],
      ['L3 system', 'start'],
      ['L3 system', 'failed'],
    ]);
    expect(events.find((e) => e.type === 'progress' && e.status === 'failed' && e.target === 'web-01')).toMatchObject({ step: 'base : Install packages', detail: 'injected failure' });
    expect(events.at(-1)).toMatchObject({ type: 'done', command: 'up', exit: 1 });
  });

  it('drift compares the VMs with Terraform: a hand-made change and a changed intent, each classified; reconcile puts them back in place', async () => {
    const client = await connectLab((await loadLab(dir)).lab!.config, new Secrets({ env, baseDir: dir }), dir);
    await client.request('PUT', '/nodes/pve1/qemu/302/config', { cores: 3 });
    await client.close();
    writeTree(dir, { 'personas/web.yaml': persona.replace('resources: {disk: 8}', 'resources: {disk: 8, memory: 3072}') });
    const r = await ahl(['drift', 'web', '--layer', 'L2', '--json', '--dir', dir], { env });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { findings: { host: string; cause: string; what: string[]; reconcile: string }[]; layers: { layer: string; partial?: string }[] };
    expect(report.layers[1]!.partial).toBeUndefined();
    expect(report.findings).toEqual([
      { layer: 'L2', host: 'web-01', cause: 'intent changed', what: ['memory.0.dedicated: 2048 → 3072'], reconcile: 'ahl apply web-01 --approve', terraform: 'update' },
      { layer: 'L2', host: 'web-02', cause: 'changed outside ahl', what: ['cpu.0.cores: 2 → 3 on the server'], reconcile: 'ahl apply web-02 --approve', terraform: 'update' },
      { layer: 'L2', host: 'web-02', cause: 'intent changed', what: ['memory.0.dedicated: 2048 → 3072'], reconcile: 'ahl apply web-02 --approve', terraform: 'update' },
    ]);
    const rec = await ahl(['reconcile', 'web', '--layer', 'L2', '--json', '--dir', dir], { env });
    expect(rec.code, rec.stderr).toBe(0);
    expect(sim.state.guests['302']?.config).toMatchObject({ cores: '2', memory: '3072' });
    expect((await ahl(['drift', 'web', '--layer', 'L2', '--dir', dir], { env })).code).toBe(0);
  });

  it('a Ctrl-C stops before the next layer: the rest are not run, the lock is released, exit 130', async () => {
    const interrupt = new AbortController();
    const r = await ahl(['up', 'web-01', '--approve', '--json', '--dir', dir], {
      env: { ...env, AHL_ANSIBLE_PLAYBOOK: fakePlaybook({ 'web-01': [] }) },
      signal: interrupt.signal,
      onStderr: (text) => text.includes('"step":"L1 images","status":"start"') && interrupt.abort(),
    });
    expect(r.code).toBe(130);
    expect(states(r)).toEqual([
      ['L0', 'ok'],
      ['L1', 'ok'],
      ['L2', 'not run'],
      ['L3', 'not run'],
      ['L4', 'not run'],
    ]);
    expect(r.stderr).toContain('interrupted: `ahl up` stopped at a safe point');
    expect(existsSync(join(dir, '.ahl', 'lock'))).toBe(false);
  });

  it('renders a summary per layer', () => {
    expect(
      renderUp(
        [
          { layer: 'L0', name: 'runway', state: 'ok', items: ['9 passed, 0 warned, 0 failed'] },
          { layer: 'L1', name: 'images', state: 'failed', items: [], note: 'noble: the download step failed' },
          { layer: 'L2', name: 'instances', state: 'not run', items: [] },
        ],
        true,
      ),
    ).toBe(['ahl up', '✓ L0 runway    ok', '    9 passed, 0 warned, 0 failed', '✗ L1 images    failed', '    noble: the download step failed', '· L2 instances not run', 'stopped at L1 images; the layers after it were not run', ''].join('\n'));
  });
}, { timeout: TIMEOUT });
