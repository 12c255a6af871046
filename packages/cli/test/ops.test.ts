import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLabLock, recordHostStates } from '@ahl/core';
import { startSim, type RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStatus, DriftReportSchema, StatusReportSchema } from '@ahl/ops';
import { renderStatus } from '../src/views/status.js';
import { ahl, fakePlaybook, REPO, writeTree } from './helpers.js';

const SECRET = '5d1f0c2e-7a3b-4c8d-9e0f-1a2b3c4d5e6f';
const V1 = '20261120-010000';
const V2 = '20261125-010000';
const manifest = (version: string, vmid: number) =>
  JSON.stringify({ image: 'noble', version, vmid, node: 'pve1', storage: 'local-lvm', templateName: `noble-${version}`, source: { url: 'https://x/noble.img' }, specDigest: 'sha256:0', toolVersion: '0.0.0', createdAt: '2026-11-20T01:00:00Z' });

describe('ahl status (stand-in ansible-playbook)', () => {
  let sim: RunningSim;
  let dir: string;
  const env = { T: SECRET };

  beforeAll(async () => {
    sim = await startSim({
      https: false,
      authFailureDelayMs: 0,
      statsLagMs: 0,
      seed: {
        nodes: [{ name: 'pve1', bridges: [{ iface: 'vmbr0' }] }, { name: 'pve2', bridges: [{ iface: 'vmbr0' }] }],
        users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
        acl: [{ path: '/', roles: ['PVEAuditor'], users: ['ahl@pve'] }],
        guests: [
          { vmid: 9001, name: `noble-${V1}`, template: true, config: { tags: 'ahl-template' } },
          { vmid: 9002, name: `noble-${V2}`, template: true, config: { tags: 'ahl-template' } },
          { vmid: 101, name: 'web-01', running: true, config: { tags: `ahl;web;tpl-noble-${V2}` } },
          { vmid: 102, name: 'web-02', node: 'pve2', config: { tags: `ahl;web;tpl-noble-${V1}` } },
          { vmid: 150, name: 'old-box', running: true, config: { tags: 'ahl;web' } },
          { vmid: 200, name: 'not-ours', running: true },
        ],
      },
    });
    dir = writeTree(mkdtempSync(join(tmpdir(), 'ahl-cli-status-')), {
      'lab.yaml': `name: cli-status\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T"}\nnodes: {pve1: {}, pve2: {}}\ncloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}\nbackup: {target: {kind: rsync, host: 10.0.0.9, user: b, path: /b}}\nworkloads: {dataRoots: [/srv]}\n`,
      'images/noble.yaml': 'os: {family: ubuntu, release: noble}\nsource: {url: "https://x/noble.img", checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}\n',
      'images/noble/channels.json': JSON.stringify({ channels: { stable: V2 }, history: { stable: [V1] } }),
      [`images/noble/artifacts/${V1}.json`]: manifest(V1, 9001),
      [`images/noble/artifacts/${V2}.json`]: manifest(V2, 9002),
      'stacks/app/compose.yaml': 'services:\n  app:\n    image: busybox\n',
      'personas/web.yaml':
        'template: noble@stable\nsystem: {packages: [tree]}\nworkloads:\n  - stack: app\n    data: [{path: /srv/app, backup: true}]\nbackup: {maxAge: 26h}\nhosts:\n' +
        '  web-01: {node: pve1, ip: 10.0.0.11/24, gateway: 10.0.0.1}\n  web-02: {node: pve1, ip: 10.0.0.12/24, gateway: 10.0.0.1}\n  web-03: {node: pve1, ip: 10.0.0.13/24, gateway: 10.0.0.1}\n',
    });
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await recordHostStates(dir, {
      'web-01': {
        system: { at: hourAgo, status: 'changed', changed: ['Install packages'] },
        workload: { at: hourAgo, status: 'ok', changed: [] },
        backup: { at: hourAgo, last: { id: '20261126T000000Z', time: hourAgo, size: 10 } },
      },
      'web-02': {
        system: { at: hourAgo, status: 'ok', changed: [] },
        systemCheck: { at: new Date().toISOString(), status: 'changed', changed: ['Write files'] },
        backup: { at: hourAgo, last: { id: '20261120T000000Z', time: '2026-11-20T00:00:00.000Z' } },
      },
    });
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('shows every host from one API call and what this machine remembers', async () => {
    const requests = () => Object.values(sim.stats.snapshot()).reduce((n, s) => n + s.count, 0);
    const before = requests();
    const r = await ahl(['status', '--json', '--dir', dir], { env });
    expect(r.stderr.split('\n').filter((l) => /^\S+:\d+:\d+ /.test(l))).toEqual([]);
    expect(r.code).toBe(0);
    expect(requests() - before).toBe(1);
    const report = JSON.parse(r.stdout);
    // The output is what its published JSON Schema (ahl schema status) says.
    expect(StatusReportSchema.safeParse(report).error).toBeUndefined();
    expect(report.calls).toBe(1);
    expect(report.hosts.map((h: { host: string; drift: string[] }) => [h.host, h.drift])).toEqual([
      ['web-01', []],
      ['web-02', ['node', 'template', 'system', 'backup']],
      ['web-03', ['missing', 'backup']],
    ]);
    expect(report.hosts[0]).toMatchObject({ vm: { vmid: 101, node: 'pve1', power: 'running' }, template: { version: V2, channelVersion: V2, state: 'current' }, system: { status: 'changed' }, backup: { fresh: true, id: '20261126T000000Z' } });
    expect(report.hosts[1]).toMatchObject({ vm: { vmid: 102, node: 'pve2', power: 'stopped' }, template: { version: V1, state: 'behind' }, systemCheck: { status: 'changed', changed: ['Write files'] } });
    expect(report.unmanaged).toEqual([{ vmid: 150, name: 'old-box', node: 'pve1', power: 'running' }]);
    // With --json the table is left out of stderr's event stream (the result is on stdout); without, it is the output.
    expect(r.stderr).not.toContain('HOST');
    const table = await ahl(['status', '--dir', dir], { env });
    expect(table.stderr).toMatch(/^HOST +PERSONA +NODE +VM +TEMPLATE +SYSTEM +WORKLOAD +BACKUP +DRIFT$/m);
    expect(table.stderr).toMatch(/^web-02 +web +pve2 \(intent pve1\) +102 stopped +20261120-010000 → 20261125-010000 +drift \d+s +never +\d+d > 26h +node,template,system,backup$/m);
    expect(table.stderr).toContain('! old-box (vmid 150 on pve1, running) is tagged ahl but no host declares it');
    expect(table.stderr).toContain('3 hosts, 2 need attention · 1 API call');
  });

  it('narrows to a persona or host, and names what would do for an unknown one', async () => {
    const one = await ahl(['status', 'web-03', '--json', '--dir', dir], { env });
    expect(JSON.parse(one.stdout).hosts.map((h: { host: string }) => h.host)).toEqual(['web-03']);
    const bad = await ahl(['status', 'nope', '--dir', dir], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no persona, group or host named "nope"; expected one of: web, web-01, web-02, web-03');
  });

  it('still shows the local part when the API cannot be asked, and exits 2', async () => {
    const r = await ahl(['status', '--dir', dir], { env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('! the Proxmox API could not be asked (secret env:T (for proxmox.tokenSecret) is not set)');
    expect(r.stderr).toMatch(/^web-01 +web +pve1 +\? /m);
  });

  it('is not held up by a run holding the lab lock, while acting commands are', async () => {
    const lock = await acquireLabLock(dir, 'converge system');
    try {
      expect((await ahl(['status', '--dir', dir], { env })).code).toBe(0);
      const busy = await ahl(['image', 'build', 'noble', '--dir', dir], { env });
      expect(busy.code).toBe(2);
      expect(busy.stderr).toMatch(/^LAB_LOCKED: `ahl converge system` \(pid \d+ on .+\) is acting on this lab$/m);
      expect(busy.stderr).toContain('nothing was changed');
    } finally {
      await lock.release();
    }
  });

  it('drift: template lag, a hand-made change, a never-converged host, each with its reconcile command', async () => {
    const ok = await ahl(['converge', 'system', 'web-01', '--dir', dir], { env: { ...env, AHL_ANSIBLE_PLAYBOOK: fakePlaybook({ 'web-01': [] }) } });
    expect(ok.code).toBe(0);
    const bin = fakePlaybook({ 'web-01': ['files : Write the declared files'], 'web-02': [], 'web-03': ['base : Install packages'] });
    const r = await ahl(['drift', '--layer', 'L1,L3', '--json', '--dir', dir], { env: { ...env, AHL_ANSIBLE_PLAYBOOK: bin } });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(DriftReportSchema.safeParse(report).error).toBeUndefined();
    expect(report.findings).toEqual([
      { layer: 'L1', host: 'web-02', cause: 'template moved', what: [`noble@stable: cloned from ${V1}, the channel is at ${V2}`], reconcile: 'ahl rebuild web-02' },
      { layer: 'L3', host: 'web-01', cause: 'changed outside ahl', what: ['files : Write the declared files'], reconcile: 'ahl converge system web-01' },
      { layer: 'L3', host: 'web-03', cause: 'never converged here', what: ['base : Install packages'], reconcile: 'ahl converge system web-03' },
    ]);
    expect(report.layers.map((l: { layer: string; checked: boolean }) => [l.layer, l.checked])).toEqual([['L1', true], ['L2', false], ['L3', true], ['L4', false]]);
    // The check is remembered: status flags the hosts without asking them again.
    const st = JSON.parse((await ahl(['status', 'web-01', '--json', '--dir', dir], { env })).stdout);
    expect(st.hosts[0].drift).toEqual(['system']);

    writeFileSync(join(dir, 'personas/web.yaml'), readFileSync(join(dir, 'personas/web.yaml'), 'utf8').replace('packages: [tree]', 'packages: [tree, htop]'));
    const again = await ahl(['drift', 'web-01', '--layer', 'L3', '--json', '--dir', dir], { env: { ...env, AHL_ANSIBLE_PLAYBOOK: bin } });
    expect(JSON.parse(again.stdout).findings).toEqual([{ layer: 'L3', host: 'web-01', cause: 'intent changed', what: ['files : Write the declared files'], reconcile: 'ahl converge system web-01' }]);
  });

  it('drift --notify: posts the report to the webhook its secret reference names, and never shows the URL', async () => {
    const received: { body: string; type?: string }[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, ...(req.headers['content-type'] ? { type: req.headers['content-type'] } : {}) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks/s3cr3t-t0ken`;
    try {
      const bin = fakePlaybook({ 'web-01': ['files : Write the declared files'] });
      const r = await ahl(['drift', 'web-01', '--layer', 'L3', '--notify', 'env:HOOK', '--dir', dir], { env: { ...env, HOOK: url, AHL_ANSIBLE_PLAYBOOK: bin } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('notified the webhook (204)');
      expect(received).toHaveLength(1);
      expect(received[0]!.type).toBe('application/json');
      expect(JSON.parse(received[0]!.body)).toEqual({
        lab: 'cli-status',
        at: expect.any(String),
        clean: false,
        summary: 'cli-status: 1 drift finding on web-01',
        findings: [{ layer: 'L3', host: 'web-01', cause: 'intent changed', what: ['files : Write the declared files'], reconcile: 'ahl converge system web-01' }],
        unchecked: [],
      });
      expect(r.stdout + r.stderr).not.toContain('s3cr3t-t0ken');
      // A clean lab posts nothing.
      await ahl(['drift', 'web-01', '--layer', 'L3', '--notify', 'env:HOOK', '--dir', dir], { env: { ...env, HOOK: url, AHL_ANSIBLE_PLAYBOOK: fakePlaybook({ 'web-01': [] }) } });
      expect(received).toHaveLength(1);
      const literal = await ahl(['drift', '--notify', url, '--dir', dir], { env });
      expect(literal.code).toBe(2);
      expect(literal.stderr).toContain('--notify takes a secret reference to the webhook URL (env:NAME, file:PATH or sops:PATH#KEY), never the URL itself');
      expect(literal.stderr).not.toContain('s3cr3t-t0ken');
    } finally {
      await new Promise((r) => hook.close(r));
    }
  });

  it('drift: a clean lab exits 0, an unknown layer is wrong usage', async () => {
    const r = await ahl(['drift', 'web-01', '--layer', 'L3', '--dir', dir], { env: { ...env, AHL_ANSIBLE_PLAYBOOK: fakePlaybook({ 'web-01': [] }) } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/L3 system {2}no drift\n(.*\n)*no drift\n$/);
    const bad = await ahl(['drift', '--layer', 'L5', '--dir', dir], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown layer "L5"; expected L1, L2, L3 or L4');
  });
});

describe('status rendering', () => {
  it('is a plain table without colour, and says what the API did not', () => {
    const lab = { name: 'x', hosts: [], images: {}, personas: {}, stacks: {} } as never;
    const report = buildStatus({ lab, records: new Map(), states: new Map(), now: new Date('2026-11-26T00:00:00Z'), calls: 0, apiError: 'connect ECONNREFUSED' });
    expect(renderStatus(report, (_s, t) => t)).toBe(
      '! the Proxmox API could not be asked (connect ECONNREFUSED); VM columns are unknown\nHOST  PERSONA  NODE  VM  TEMPLATE  SYSTEM  WORKLOAD  BACKUP  DRIFT\n0 hosts, 0 need attention · 0 API calls · 2026-11-26T00:00:00.000Z\n',
    );
  });
});

describe('ahl graph', () => {
  it('draws the example lab in Mermaid and DOT, the same bytes every time', async () => {
    const mermaid = await ahl(['graph', '--dir', REPO]);
    expect(mermaid.code).toBe(0);
    await expect(mermaid.stdout).toMatchFileSnapshot('__snapshots__/example-lab.mmd');
    const dot = await ahl(['graph', '--format', 'dot', '--dir', REPO]);
    await expect(dot.stdout).toMatchFileSnapshot('__snapshots__/example-lab.dot');
    expect((await ahl(['graph', '--dir', REPO])).stdout).toBe(mermaid.stdout);
  });

  it('narrows to a persona, as nodes and edges with --json', async () => {
    const r = await ahl(['graph', 'openvpn', '--json', '--dir', REPO]);
    const g = JSON.parse(r.stdout);
    expect(g.nodes.filter((n: { kind: string }) => n.kind === 'persona').map((n: { label: string }) => n.label)).toEqual(['openvpn']);
    expect(g.edges.every((e: { from: string; to: string }) => !JSON.stringify(e).includes('docker'))).toBe(true);
  });

  it('refuses an unknown format', async () => {
    const r = await ahl(['graph', '--format', 'png', '--dir', REPO]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown format "png"; expected mermaid or dot');
  });
});

