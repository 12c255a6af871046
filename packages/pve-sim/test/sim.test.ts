import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import type { RunningSim, SimStateData } from '../src/index.js';
import { NODE, TOKEN, failure, raw, testSim, tokenClient, waitTask } from './helpers.js';

describe('fault injection and call accounting', () => {
  let sim: RunningSim;
  beforeAll(async () => {
    sim = await testSim({ control: true });
  });
  afterAll(() => sim.stop());

  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const headers = { Authorization: `Bearer ${sim.control!.token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) };
    const res = await fetch(`${sim.control!.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
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

describe('the control API (/_sim)', () => {
  const get = (sim: RunningSim, path: string, authorization?: string) => fetch(`${sim.url}/_sim${path}`, authorization ? { headers: { Authorization: authorization } } : {});

  it('is off by default: every path under /_sim answers 404, and the in-process handles still work', async () => {
    const sim = await testSim();
    try {
      expect(sim.control).toBeUndefined();
      for (const path of ['/state', '/faults', '/stats', '']) {
        const res = await get(sim, path, `PVEAPIToken=${TOKEN.id}=${TOKEN.secret}`);
        expect(res.status, path).toBe(404);
        expect(JSON.stringify(await res.json())).not.toContain(TOKEN.secret);
      }
      const post = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ kind: 'error', endpoint: 'GET /version', status: 500, message: 'x' }) });
      expect(post.status).toBe(404);
      expect(sim.faults.list()).toEqual([]);
      expect((await raw(sim, 'GET', '/version')).status).toBe(200);
    } finally {
      await sim.stop();
    }
  });

  it('on, refuses a request without its bearer token with 401, whatever else it carries', async () => {
    const sim = await testSim({ control: true });
    try {
      expect(sim.control).toEqual({ url: `${sim.url}/_sim`, token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
      for (const authorization of [undefined, `PVEAPIToken=${TOKEN.id}=${TOKEN.secret}`, 'Bearer wrong', `Bearer ${sim.control!.token}x`, `Basic ${sim.control!.token}`, 'Bearer ']) {
        const res = await get(sim, '/state', authorization);
        expect(res.status, String(authorization)).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Bearer realm="pve-sim control"');
        expect(await res.json()).toEqual({ error: 'the control API needs its own token: Authorization: Bearer <token>' });
      }
      const post = await fetch(`${sim.control!.url}/faults`, { method: 'POST', body: JSON.stringify({ kind: 'error', endpoint: 'GET /version', status: 500, message: 'x' }) });
      expect(post.status).toBe(401);
      expect(sim.faults.list()).toEqual([]);
      // Each sim makes its own token.
      const other = await testSim({ control: true });
      expect(other.control!.token).not.toBe(sim.control!.token);
      await other.stop();
    } finally {
      await sim.stop();
    }
  });

  it('with its token, works; the token may be given', async () => {
    const sim = await testSim({ control: { token: 'ctl-token-for-tests' } });
    try {
      expect(sim.control!.token).toBe('ctl-token-for-tests');
      const add = await fetch(`${sim.control!.url}/faults`, {
        method: 'POST',
        headers: { Authorization: 'bearer ctl-token-for-tests', 'Content-Type': 'application/json' },
        body: JSON.stringify({ kind: 'error', endpoint: 'GET /version', status: 503, message: 'down', times: 1, id: 'f1' }),
      });
      expect([add.status, await add.json()]).toEqual([200, { id: 'f1' }]);
      expect((await raw(sim, 'GET', '/version')).status).toBe(503);
      const stats = await get(sim, '/stats', 'Bearer ctl-token-for-tests');
      expect(stats.status).toBe(200);
      expect(await stats.json()).toMatchObject({ 'GET /version': { count: 1, byStatus: { '503': 1 } } });
    } finally {
      await sim.stop();
    }
    await expect(testSim({ control: { token: 'has a space' } })).rejects.toThrow('control.token must be a non-empty string of printable ASCII without spaces');
    await expect(testSim({ control: { token: '' } })).rejects.toThrow('control.token must be');
  });

  it('never returns a token secret, password or the ticket key: the state dump has them redacted', async () => {
    const sim = await testSim({ control: true });
    try {
      // A secret put where the dump would carry it as it is (a fault's message) is taken out too.
      sim.faults.add({ kind: 'error', endpoint: 'GET /cluster/nextid', status: 500, message: `leak ${TOKEN.secret}`, id: 'leaky' });
      const texts: string[] = [];
      for (const path of ['/state', '/faults', '/stats', '/storage-locks']) {
        const res = await get(sim, path, `Bearer ${sim.control!.token}`);
        expect(res.status, path).toBe(200);
        texts.push(await res.text());
      }
      const state = JSON.parse(texts[0]!) as SimStateData;
      expect(Object.keys(state.guests)).toContain('9000');
      expect(state.access.users['ahl@pve']!.tokens.ci).toMatchObject({ secret: '(redacted)', privsep: true });
      expect(state.access.users['ahl@pve']!.password).toBe('(redacted)');
      expect(state.access.ticketKey).toBe('(redacted)');
      expect(texts[1]).toContain('leak (redacted)');
      const secrets = [...Object.values(sim.tokens), sim.state.access.ticketKey];
      for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret);
      // The sim itself is untouched: its tokens still authenticate.
      expect((await tokenClient(sim).version.$get()) as { version: string }).toMatchObject({ version: expect.any(String) });
      expect(sim.state.access.users['ahl@pve']!.tokens.ci!.secret).toBe(TOKEN.secret);
    } finally {
      await sim.stop();
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

  prerequisites([!existsSync(bin) && `${bin} (pnpm build)`]).it('the bin serves the control API only with --control, with the token it prints or PVE_SIM_CONTROL_TOKEN', async () => {
    const start = async (args: string[], env: Record<string, string> = {}) => {
      const child = spawn(process.execPath, [bin, '--http', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
      const out = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.endsWith('\n') && /token root@pam/.test(text) && (!args.includes('--control') || /^control /m.test(text))) resolve(text);
        });
        child.on('exit', (code) => reject(new Error(`bin exited early with ${code}`)));
      });
      child.removeAllListeners('exit');
      return { child, out, url: /listening on (\S+)\/api2\/json/.exec(out)![1]! };
    };
    const stop = (child: ReturnType<typeof spawn>) => new Promise<void>((resolve) => child.once('exit', () => resolve()).kill('SIGTERM'));

    const off = await start([]);
    try {
      expect(off.out).not.toMatch(/^control /m);
      expect((await fetch(`${off.url}/_sim/state`)).status).toBe(404);
    } finally {
      await stop(off.child);
    }

    const on = await start(['--control']);
    try {
      const m = /^control (\S+) bearer (\S+)$/m.exec(on.out);
      expect(m?.[1]).toBe(`${on.url}/_sim`);
      expect((await fetch(`${m![1]}/state`)).status).toBe(401);
      const res = await fetch(`${m![1]}/state`, { headers: { Authorization: `Bearer ${m![2]}` } });
      expect(res.status).toBe(200);
      const secret = /root@pam!sim=(\S+)/.exec(on.out)![1]!;
      expect(await res.text()).not.toContain(secret);
    } finally {
      await stop(on.child);
    }

    const given = await start(['--control'], { PVE_SIM_CONTROL_TOKEN: 'from-the-environment' });
    try {
      expect(given.out).toMatch(/^control \S+ bearer from PVE_SIM_CONTROL_TOKEN$/m);
      expect(given.out).not.toContain('from-the-environment');
      expect((await fetch(`${given.url}/_sim/stats`, { headers: { Authorization: 'Bearer from-the-environment' } })).status).toBe(200);
    } finally {
      await stop(given.child);
    }
  });
});
