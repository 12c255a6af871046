import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSim, type RunningSim } from '@ahl/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ahl, writeTree } from './helpers.js';

const SECRET = '7c0b9e2a-1f3d-4e5a-8b6c-2d4f6a8c0e1b';

describe('ahl power', () => {
  let sim: RunningSim;
  let dir: string;
  const env = { T: SECRET };
  const power = async () => {
    const r = await ahl(['status', '--json', '--dir', dir], { env });
    return Object.fromEntries(JSON.parse(r.stdout).hosts.map((h: { host: string; vm?: { power: string } }) => [h.host, h.vm?.power]));
  };
  const posts = () => Object.entries(sim.stats.snapshot()).filter(([k]) => k.startsWith('POST')).reduce((n, [, s]) => n + s.count, 0);

  beforeAll(async () => {
    sim = await startSim({
      https: false,
      authFailureDelayMs: 0,
      statsLagMs: 0,
      taskDurationMs: 10,
      agentStartDelayMs: 300,
      seed: {
        nodes: [{ name: 'pve1', bridges: [{ iface: 'vmbr0' }] }],
        users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
        acl: [{ path: '/', roles: ['PVEVMAdmin', 'PVEAuditor'], users: ['ahl@pve'] }],
        guests: [
          { vmid: 101, name: 'web-01', running: true, config: { agent: '1', tags: 'ahl' } },
          { vmid: 102, name: 'web-02', config: { agent: '1', tags: 'ahl' } },
          { vmid: 103, name: 'web-03', running: true, config: { tags: 'ahl' } },
        ],
      },
    });
    dir = writeTree(mkdtempSync(join(tmpdir(), 'ahl-cli-power-')), {
      'lab.yaml': `name: cli-power\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T"}\nnodes: {pve1: {}}\ncloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}\n`,
      'images/noble.yaml': 'os: {family: ubuntu, release: noble}\nsource: {url: "https://x/noble.img", checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}\n',
      'personas/web.yaml':
        'template: noble@stable\nhosts:\n  web-01: {node: pve1, ip: 10.0.0.11/24, gateway: 10.0.0.1, groups: [front]}\n  web-02: {node: pve1, ip: 10.0.0.12/24, gateway: 10.0.0.1, groups: [front]}\n  web-03: {node: pve1, ip: 10.0.0.13/24, gateway: 10.0.0.1}\n  web-04: {node: pve1, ip: 10.0.0.14/24, gateway: 10.0.0.1}\n',
    });
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('plans without --approve and changes nothing', async () => {
    const before = posts();
    const r = await ahl(['power', 'reboot', 'web', '--dir', dir], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      [
        '→ web-01 (vmid 101 on pve1, running)  reboot, then wait until healthy',
        '· web-02 (vmid 102 on pve1, stopped)  stopped: nothing to reboot',
        '→ web-03 (vmid 103 on pve1, running)  reboot, then wait until healthy',
        '· web-04  no VM on the server',
        'dry run: 2 hosts would reboot; nothing was changed (--approve to act)',
        '',
      ].join('\n'),
    );
    expect(posts()).toBe(before);
  });

  it('starts a group\'s stopped hosts and waits for their guest agent', async () => {
    const r = await ahl(['power', 'start', 'front', '--approve', '--json', '--dir', dir], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).results).toEqual([
      { host: 'web-01', status: 'skipped', message: 'already running' },
      { host: 'web-02', status: 'done', durationMs: expect.any(Number) },
    ]);
    // The agent starts after the VM: it was asked until it answered.
    const pings = Object.entries(sim.stats.snapshot()).find(([k]) => k.endsWith('/agent/ping'))?.[1];
    expect(pings?.byStatus['200']).toBe(1);
    expect(await power()).toMatchObject({ 'web-01': 'running', 'web-02': 'running' });
  });

  it('rolls one host at a time and stops at the first failure, leaving the rest alone', async () => {
    const fault = sim.faults.add({ kind: 'taskFailure', taskType: 'qmreboot', taskId: '101', message: 'injected: reboot failed' });
    try {
      const r = await ahl(['power', 'reboot', 'web', '--approve', '--json', '--dir', dir], { env });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).results.map((x: { host: string; status: string }) => [x.host, x.status])).toEqual([
        ['web-01', 'failed'],
        ['web-02', 'not reached'],
        ['web-03', 'not reached'],
        ['web-04', 'skipped'],
      ]);
      // --json: stderr is a stream of events, one per line; each host's step is a progress event.
      const stream = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(stream.filter((e) => e.type === 'progress').map((e) => [e.target, e.step, e.status])).toEqual([
        ['web-01', 'reboot', 'start'],
        ['web-01', 'reboot', 'failed'],
      ]);
      expect(stream.find((e) => e.status === 'failed')).toMatchObject({ detail: 'the reboot task failed: injected: reboot failed', msg: '✗ web-01  the reboot task failed: injected: reboot failed' });
      expect(stream.find((e) => e.level === 'warn' && String(e.msg).startsWith('stopped:'))?.msg).toBe('stopped: web-02, web-03 were left as they were');
      expect(stream.at(-1)).toMatchObject({ type: 'done', command: 'power', exit: 1 });
    } finally {
      sim.faults.remove(fault);
    }
  });

  it('a Ctrl-C stops the roll after the host in hand, releases the lock and exits 130', async () => {
    const interrupt = new AbortController();
    const r = await ahl(['power', 'reboot', 'web', '--approve', '--json', '--dir', dir], {
      env,
      signal: interrupt.signal,
      onStderr: (text) => text.includes('web-01: reboot…') && interrupt.abort(),
    });
    expect(r.code).toBe(130);
    expect(JSON.parse(r.stdout).results.map((x: { host: string; status: string }) => [x.host, x.status])).toEqual([
      ['web-01', 'done'],
      ['web-02', 'not reached'],
      ['web-03', 'not reached'],
      ['web-04', 'skipped'],
    ]);
    expect(r.stderr).toContain('interrupted: `ahl power` stopped at a safe point');
    expect(existsSync(join(dir, '.ahl', 'lock'))).toBe(false);
  });

  it('shuts a host down, and refuses what it cannot mean', async () => {
    const r = await ahl(['power', 'shutdown', 'web-03', '--approve', '--dir', dir], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/✓ web-03 {2}shutdown done in \d+ s/);
    expect(await power()).toMatchObject({ 'web-03': 'stopped' });
    expect((await ahl(['power', 'dance', 'web', '--dir', dir], { env })).stderr).toContain('unknown action "dance"; expected start, shutdown, reboot');
    expect((await ahl(['power', 'start', 'web', '--if-needed', '--dir', dir], { env })).stderr).toContain('--if-needed goes with reboot only');
  });
});
