import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import type { RunningSim } from '../src/index.js';
import { NODE, TOKEN, failure, raw, testSim, tokenClient, waitTask } from './helpers.js';

describe('fault injection and call accounting', () => {
  let sim: RunningSim;
  beforeAll(async () => {
    sim = await testSim();
  });
  afterAll(() => sim.stop());

  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${sim.url}/_sim${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}) });
    return res.json();
  };

  it('injects 5xx errors with the text in the status line, per endpoint and limited in count', async () => {
    const { id } = (await control('POST', '/faults', { kind: 'error', endpoint: 'GET /cluster/nextid', status: 503, message: 'service unavailable', times: 1 })) as { id: string };
    expect(id).toMatch(/^fault-/);
    const r = await raw(sim, 'GET', '/cluster/nextid');
    expect([r.status, r.statusText]).toEqual([503, 'service unavailable']);
    expect((await raw(sim, 'GET', '/cluster/nextid')).status).toBe(200);
    expect(await control('GET', '/faults')).toEqual([]);
  });

  it('injects latency and timeouts', async () => {
    sim.faults.add({ kind: 'latency', endpoint: '* /version', latencyMs: 150, id: 'slow' });
    const t0 = Date.now();
    expect((await raw(sim, 'GET', '/version')).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    sim.faults.remove('slow');
    sim.faults.add({ kind: 'timeout', pathPattern: '^/cluster/status$', latencyMs: 50, id: 'hang' });
    await expect(raw(sim, 'GET', '/cluster/status')).rejects.toThrow();
    sim.faults.remove('hang');
  });

  it('fires probabilistic faults reproducibly from the seed', async () => {
    const run = async (): Promise<number[]> => {
      sim.faults.reseed(7);
      sim.faults.add({ kind: 'error', endpoint: 'GET /version', status: 500, message: 'flaky', probability: 0.5, id: 'flaky' });
      const out: number[] = [];
      for (let i = 0; i < 12; i++) out.push((await raw(sim, 'GET', '/version')).status);
      sim.faults.remove('flaky');
      return out;
    };
    const a = await run();
    expect(a).toContain(500);
    expect(a).toContain(200);
    expect(await run()).toEqual(a);
  });

  it('fails tasks only in their exit status', async () => {
    const px = tokenClient(sim);
    sim.faults.add({ kind: 'taskFailure', taskType: 'qmclone', message: 'clone failed: storage migration error', times: 1 });
    const upid = (await px.nodes.$(NODE).qemu.$(9000).clone.$post({ newid: 500 })) as string;
    expect((await waitTask(px, upid)).exitstatus).toBe('clone failed: storage migration error');
    const log = (await px.nodes.$(NODE).tasks.$(upid).log.$get()) as { t: string }[];
    expect(log.at(-1)!.t).toBe('TASK ERROR: clone failed: storage migration error');
  });

  it('a failed clone leaves no VM and no volume behind, as PVE cleans up (bpg can retry the same newid)', async () => {
    const px = tokenClient(sim);
    sim.faults.add({ kind: 'taskFailure', taskType: 'qmclone', message: 'clone failed: injected copy error', times: 1 });
    const upid = (await px.nodes.$(NODE).qemu.$(9000).clone.$post({ newid: 510, full: true })) as string;
    // The failure strikes mid-clone: the target exists meanwhile, locked, with its copied disks.
    let sawLocked = false;
    for (let i = 0; i < 500 && !sawLocked; i++) {
      const g = sim.core.state.guests['510'];
      if (g?.config.lock === 'clone' && sim.core.state.volumes.some((v) => v.vmid === 510)) sawLocked = true;
      else await new Promise((r) => setTimeout(r, 2));
    }
    expect(sawLocked).toBe(true);
    expect((await waitTask(px, upid)).exitstatus).toBe('clone failed: injected copy error');
    expect(sim.core.state.guests['510']).toBeUndefined();
    expect(sim.core.state.volumes.filter((v) => v.vmid === 510)).toEqual([]);
    expect(await failure(px.nodes.$(NODE).qemu.$(510).config.$get())).toContain("Configuration file 'nodes/pve1/qemu-server/510.conf' does not exist");
    // A retry with the same newid (bpg's clone.retries) succeeds.
    expect((await waitTask(px, (await px.nodes.$(NODE).qemu.$(9000).clone.$post({ newid: 510, full: true })) as string)).exitstatus).toBe('OK');
    expect(sim.core.state.guests['510']?.config.lock).toBeUndefined();
  });

  it('holds config locks and file locks', async () => {
    const px = tokenClient(sim);
    await waitTask(px, (await px.nodes.$(NODE).qemu.$(9000).clone.$post({ newid: 501 })) as string);
    const id = sim.faults.add({ kind: 'lock', vmid: 501, lock: 'backup' });
    expect(await failure(px.nodes.$(NODE).qemu.$(501).config.$put({ cores: 3 }))).toContain('500 VM is locked (backup)');
    expect((await waitTask(px, (await px.nodes.$(NODE).qemu.$(501).status.start.$post()) as string)).exitstatus).toBe('VM is locked (backup)');
    expect(((await px.nodes.$(NODE).qemu.$(501).status.current.$get()) as { lock?: string }).lock).toBe('backup');
    sim.faults.remove(id);
    const fl = sim.faults.add({ kind: 'lock', vmid: 501 });
    expect(await failure(px.nodes.$(NODE).qemu.$(501).config.$put({ cores: 3 }))).toContain("500 can't lock file '/var/lock/qemu-server/lock-501.conf' - got timeout");
    sim.faults.remove(fl);
    expect(await px.nodes.$(NODE).qemu.$(501).config.$put({ cores: 3 })).toBeNull();
  });

  it('exhausts storage: allocations fail in the task', async () => {
    const px = tokenClient(sim);
    sim.faults.add({ kind: 'storageFull', storage: 'local-lvm', id: 'full' });
    const upid = (await px.nodes.$(NODE).qemu.$post({ vmid: 502, scsi0: 'local-lvm:4' })) as string;
    const st = await waitTask(px, upid);
    expect(st.exitstatus).toMatch(/^unable to create VM 502 - lvcreate 'pve\/vm-502-disk-0' error: +Cannot create new thin volume/);
    expect(await failure(px.nodes.$(NODE).qemu.$(502).config.$get())).toContain('does not exist');
    sim.faults.remove('full');
    const big = (await px.nodes.$(NODE).qemu.$post({ vmid: 503, scsi0: 'local-lvm:500' })) as string;
    expect((await waitTask(px, big)).exitstatus).toContain('Cannot create new thin volume');
  });

  it('counts calls per endpoint with timings', async () => {
    await control('DELETE', '/stats');
    await raw(sim, 'GET', '/version');
    await raw(sim, 'GET', '/version');
    await raw(sim, 'GET', '/nodes/pve1/qemu/9000/config');
    await raw(sim, 'GET', '/no/such/path');
    const stats = (await control('GET', '/stats')) as Record<string, { count: number; errors: number; byStatus: Record<string, number>; meanMs: number }>;
    expect(stats['GET /version']).toMatchObject({ count: 2, errors: 0, byStatus: { '200': 2 } });
    expect(stats['GET /nodes/{node}/qemu/{vmid}/config']!.count).toBe(1);
    expect(stats['GET <unmatched>']).toMatchObject({ count: 1, errors: 1, byStatus: { '501': 1 } });
    expect(typeof stats['GET /version']!.meanMs).toBe('number');
  });

  it('shows new guests as unknown in /cluster/resources until the stats lag passes', async () => {
    const lagged = await testSim({ statsLagMs: 60_000 });
    try {
      const px = tokenClient(lagged);
      await waitTask(px, (await px.nodes.$(NODE).qemu.$post({ vmid: 120, name: 'fresh' })) as string);
      const res = (await px.cluster.resources.$get({ type: 'vm' })) as Record<string, unknown>[];
      expect(res.find((r) => r.vmid === 120)).toEqual({ id: 'qemu/120', type: 'qemu', vmid: 120, node: 'pve1', template: 0, status: 'unknown' });
    } finally {
      await lagged.stop();
    }
  });
});

describe('persistence', () => {
  it('keeps guests across a restart with stateDir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pve-sim-state-'));
    try {
      const a = await testSim({ stateDir: dir });
      const px = tokenClient(a);
      await waitTask(px, (await px.nodes.$(NODE).qemu.$post({ vmid: 130, name: 'kept', scsi0: 'local-lvm:2' })) as string);
      await a.stop();
      const b = await testSim({ stateDir: dir, seed: { nodes: [{ name: 'other' }] } });
      try {
        const cfg = (await tokenClient(b).nodes.$(NODE).qemu.$(130).config.$get()) as { name: string; scsi0: string };
        expect(cfg).toMatchObject({ name: 'kept', scsi0: 'local-lvm:vm-130-disk-0,size=2G' });
      } finally {
        await b.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HTTPS and the bin', () => {
  it('serves HTTPS with a self-signed certificate whose fingerprint it reports', async () => {
    const sim = await testSim({ https: true });
    try {
      expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(sim.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
      const seen = await new Promise<{ fp: string; body: string; tls: string }>((resolve, reject) => {
        const req = request(`${sim.apiUrl}/version`, { rejectUnauthorized: false, headers: { Authorization: `PVEAPIToken=${TOKEN.id}=${TOKEN.secret}` }, minVersion: 'TLSv1.3' }, (res) => {
          let body = '';
          const sock = res.socket as import('node:tls').TLSSocket;
          const fp = sock.getPeerCertificate().fingerprint256;
          const tls = sock.getProtocol() ?? '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ fp, body, tls }));
        });
        req.on('error', reject);
        req.end();
      });
      expect(seen.fp).toBe(sim.fingerprint);
      expect(seen.tls).toBe('TLSv1.3');
      expect(JSON.parse(seen.body)).toMatchObject({ data: { version: '9.1.1' } });
    } finally {
      await sim.stop();
    }
  });

  const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin.js');
  prerequisites([!existsSync(bin) && `${bin} (pnpm build)`]).it('the bin prints the URL and tokens and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, '--http', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (c: Buffer) => {
        text += c.toString();
        if (/token /.test(text)) resolve(text);
      });
      child.on('exit', (code) => reject(new Error(`bin exited early with ${code}`)));
    });
    expect(out).toMatch(/^pve-sim listening on http:\/\/127\.0\.0\.1:\d+\/api2\/json\ntoken root@pam!sim=[0-9a-f-]{36}\n$/);
    const url = /listening on (\S+)/.exec(out)![1]!;
    const secret = /root@pam!sim=(\S+)/.exec(out)![1]!;
    const res = await fetch(`${url}/version`, { headers: { Authorization: `PVEAPIToken=root@pam!sim=${secret}` } });
    expect(res.status).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });
});
