import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSim } from '../src/index.js';
import { NO_ACL_TOKEN, raw, testSim } from './helpers.js';

let sim: RunningSim;
beforeAll(async () => {
  sim = await testSim();
});
afterAll(() => sim.stop());

describe('transport and envelope', () => {
  it('answers {"data":…} with PVE headers', async () => {
    const r = await raw(sim, 'GET', '/version');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json;charset=UTF-8');
    expect(r.headers.get('server')).toBe('pve-api-daemon/3.0');
    expect(r.headers.get('cache-control')).toBe('max-age=0');
    expect(r.headers.get('pragma')).toBe('no-cache');
    expect(r.headers.get('expires')).toBe(r.headers.get('date'));
    expect(Object.keys(r.json() as object)).toEqual(['data']);
  });

  it('compresses bodies over 1024 bytes when the client accepts gzip', async () => {
    const res = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const req = request(
        `${sim.apiUrl}/access/roles`,
        { headers: { 'Accept-Encoding': 'gzip', Authorization: 'PVEAPIToken=ahl@pve!ci=11111111-2222-4333-8444-555555555555' } },
        (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ headers: r.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(res.headers['content-encoding']).toBe('gzip');
    expect((JSON.parse(gunzipSync(res.body).toString()) as { data: unknown[] }).data.length).toBeGreaterThan(10);
  });

  it('501 for other methods, bodies on GET, chunked bodies; 506 for other content types', async () => {
    const patch = await raw(sim, 'PATCH', '/version');
    expect([patch.status, patch.statusText, patch.text]).toEqual([501, "method 'PATCH' not available", "method 'PATCH' not available"]);
    const get = await raw(sim, 'DELETE', '/pools/lab', { body: 'a=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect([get.status, get.statusText]).toEqual([501, "Unexpected content for method 'DELETE'"]);
    expect(get.headers.get('content-type')).toBeNull();
    const xml = await raw(sim, 'POST', '/pools', { body: '<x/>', headers: { 'Content-Type': 'text/xml' } });
    expect([xml.status, xml.statusText]).toEqual([506, "upload 'Content-Type 'text/xml' not implemented"]);
    const noFormat = await fetch(`${sim.url}/api2/extjs/version`);
    expect(noFormat.status).toBe(501);
  });

  it('form bodies: `;` separates pairs, repeated keys join for -list params, booleans are 0/1 only', async () => {
    const r1 = await raw(sim, 'POST', '/pools', { body: 'poolid=a1;comment=x+y', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(r1.status).toBe(200);
    expect((await raw(sim, 'GET', '/pools/a1')).json()).toEqual({ data: { comment: 'x y', members: [] } });
    const r2 = await raw(sim, 'GET', '/cluster/resources', { query: 'type=vm&_dc=123' });
    expect(r2.status).toBe(200);
    const r3 = await raw(sim, 'GET', '/nodes/pve1/storage', { query: 'enabled=true' });
    expect(r3.json()).toEqual({ data: null, errors: { enabled: "type check ('boolean') failed - got 'true'" }, message: 'Parameter verification failed.\n' });
    expect(r3.statusText).toBe('Parameter verification failed.');
  });

  it('JSON bodies accept JSON booleans and numbers', async () => {
    const r = await raw(sim, 'POST', '/pools', { body: JSON.stringify({ poolid: 'j1', comment: 'json' }), headers: { 'Content-Type': 'application/json' } });
    expect(r.status).toBe(200);
    const q = await raw(sim, 'GET', '/cluster/nextid', { query: 'vmid=150' });
    expect(q.json()).toEqual({ data: '150' });
  });

  it('a body parameter repeating a path parameter must match it', async () => {
    const ok = await raw(sim, 'GET', '/nodes/pve1/storage/local/status', { query: 'node=pve1&storage=local' });
    expect(ok.status).toBe(200);
    const bad = await raw(sim, 'GET', '/nodes/pve1/storage/local/status', { query: 'node=pve2' });
    expect(bad.json()).toMatchObject({ errors: { node: 'duplicate parameter (already defined in URI) with conflicting values!' } });
  });

  it('orders checks 501 → 403 → 400 and answers unknown nodes like PVE', async () => {
    const unauthorisedAndBad = await raw(sim, 'GET', '/nodes/pve1/qemu/100/config', { query: 'bogus=1', token: NO_ACL_TOKEN });
    expect([unauthorisedAndBad.status, unauthorisedAndBad.statusText]).toEqual([403, 'Permission check failed (/vms/100, VM.Audit)']);
    const unknownPath = await raw(sim, 'GET', '/nodes/pve1/nope', { token: NO_ACL_TOKEN });
    expect(unknownPath.status).toBe(501);
    const node = await raw(sim, 'GET', '/nodes/pve9/status');
    expect([node.status, node.statusText]).toEqual([500, "hostname lookup 'pve9' failed - failed to get address info for: pve9: Name or service not known"]);
  });
});

describe('authentication', () => {
  it('401 No ticket without credentials, with an empty body and no Content-Type', async () => {
    const r = await raw(sim, 'GET', '/version', { token: null });
    expect([r.status, r.statusText, r.text]).toEqual([401, 'No ticket', '']);
    expect(r.headers.get('content-type')).toBeNull();
    expect(r.headers.get('connection')).toBe('close');
  });

  it('ticket auth needs the CSRF header on writes, not on reads', async () => {
    const login = await raw(sim, 'POST', '/access/ticket', { token: null, form: { username: 'ahl', realm: 'pve', password: 'secret' } });
    const data = (login.json() as { data: { ticket: string; CSRFPreventionToken: string; username: string; cap: Record<string, unknown>; clustername: string } }).data;
    expect(data.username).toBe('ahl@pve');
    expect(data.ticket).toMatch(/^PVE:ahl@pve:[0-9A-F]{8}::\S+$/);
    expect(data.CSRFPreventionToken).toMatch(/^[0-9A-F]{8}:\S+$/);
    expect(data.clustername).toBe('lab');
    expect(data.cap.vms).toMatchObject({ 'VM.Allocate': 1 });
    const cookie = { Cookie: `PVEAuthCookie=${encodeURIComponent(data.ticket)}` };
    expect((await raw(sim, 'GET', '/version', { token: null, headers: cookie })).status).toBe(200);
    const noCsrf = await raw(sim, 'POST', '/pools', { token: null, headers: cookie, form: { poolid: 't1' } });
    expect([noCsrf.status, noCsrf.statusText]).toEqual([401, 'Permission denied - invalid csrf token']);
    const withCsrf = await raw(sim, 'POST', '/pools', { token: null, headers: { ...cookie, CSRFPreventionToken: data.CSRFPreventionToken }, form: { poolid: 't1' } });
    expect(withCsrf.status).toBe(200);
    const bad = await raw(sim, 'GET', '/version', { token: null, headers: { Cookie: 'PVEAuthCookie=PVE:ahl@pve:00000000::forged' } });
    expect([bad.status, bad.statusText]).toEqual([401, 'permission denied - invalid PVE ticket']);
    const renew = await raw(sim, 'POST', '/access/ticket', { token: null, form: { username: 'ahl@pve', password: data.ticket } });
    expect(renew.status).toBe(200);
  });

  it('disabled users and bad logins', async () => {
    const off = await raw(sim, 'POST', '/access/ticket', { token: null, form: { username: 'off@pve', password: 'x' } });
    expect([off.status, off.statusText, off.text]).toEqual([401, 'authentication failure', '{"data":null,"message":"authentication failure\\n"}']);
  });

  it('delays 401s (configurable, PVE: ~3 s)', async () => {
    const slow = await testSim({ authFailureDelayMs: 300 });
    try {
      const t0 = Date.now();
      const r = await raw(slow, 'GET', '/version', { token: null });
      expect(r.status).toBe(401);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    } finally {
      await slow.stop();
    }
  });

  it('PVE ≥ 9.1.5 says Authentication failed!; PVE 8.2 has no message in error bodies', async () => {
    const v915 = await testSim({ pveVersion: '9.1.5' });
    const v82 = await testSim({ pveVersion: '8.2.4' });
    try {
      const r = await raw(v915, 'GET', '/version', { token: { id: 'ahl@pve!ci', secret: 'wrong' } });
      expect([r.status, r.statusText]).toEqual([401, 'Authentication failed!']);
      expect((await raw(v915, 'GET', '/version', { token: null })).statusText).toBe('No ticket');
      const old = await raw(v82, 'GET', '/nodes/pve1/qemu/555/config');
      expect([old.status, old.statusText, old.text]).toEqual([500, "Configuration file 'nodes/pve1/qemu-server/555.conf' does not exist", '{"data":null}']);
      const oldToken = await raw(v82, 'GET', '/version', { token: { id: 'ahl@pve!ci', secret: 'wrong' } });
      expect(oldToken.statusText).toBe('invalid token value!');
    } finally {
      await v915.stop();
      await v82.stop();
    }
  });
});
