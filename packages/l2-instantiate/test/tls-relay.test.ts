import { X509Certificate } from 'node:crypto';
import { get } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { FingerprintMismatchError } from '@ahl/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshRelayCertificate } from '../src/relay-cert.js';
import { relayedTerraformEnv } from '../src/terraform.js';
import { checkPin, relayEndpoint, relayUpstream, startPinnedRelay, type PinnedRelay } from '../src/tls-relay.js';

const A = 'AB:'.repeat(31) + 'AB';
const B = 'cd'.repeat(32);

describe('relayUpstream', () => {
  it.each([
    ['https://pve1.lab.example:8006', { host: 'pve1.lab.example', port: 8006, servername: 'pve1.lab.example' }],
    ['https://pve1.lab.example/pve/', { host: 'pve1.lab.example', port: 443, servername: 'pve1.lab.example' }],
    ['https://10.0.0.11:8006/', { host: '10.0.0.11', port: 8006 }],
    ['https://[fd00::11]:8006', { host: 'fd00::11', port: 8006 }],
  ])('%s → %j (no SNI for an address)', (endpoint, want) => {
    expect(relayUpstream(endpoint)).toEqual(want);
  });

  it('refuses a plain-http endpoint: there is no certificate to pin', () => {
    expect(() => relayUpstream('http://pve1:8006')).toThrow(/must be https/);
  });
});

describe('relayEndpoint', () => {
  it.each([
    ['https://pve1:8006', 'https://127.0.0.1:41000/'],
    ['https://pve1:8006/', 'https://127.0.0.1:41000/'],
    ['https://proxy.example/pve', 'https://127.0.0.1:41000/pve/'],
  ])('%s → %s', (endpoint, want) => {
    expect(relayEndpoint(endpoint, { host: '127.0.0.1', port: 41000 })).toBe(want);
  });
});

describe('checkPin', () => {
  it('accepts the pinned certificate in any notation', () => {
    expect(checkPin(A, A)).toBeUndefined();
    expect(checkPin(A, A.toLowerCase())).toBeUndefined();
    expect(checkPin(A, A.replace(/:/g, ''))).toBeUndefined();
  });

  it('refuses another certificate or none, naming both', () => {
    const e = checkPin(A, B)!;
    expect(e).toBeInstanceOf(FingerprintMismatchError);
    expect(e).toMatchObject({ code: 'ERR_AHL_FINGERPRINT_MISMATCH', expected: A, actual: 'CD:'.repeat(31) + 'CD' });
    expect(checkPin(A, undefined)).toMatchObject({ expected: A, actual: '(no certificate)' });
    expect(checkPin(A, '')).toMatchObject({ actual: '(no certificate)' });
  });
});

describe('relayedTerraformEnv', () => {
  it('points the endpoint at the relay and the CA file at its trust bundle, keeping the rest', () => {
    const env = { PATH: '/usr/bin', PROXMOX_VE_ENDPOINT: 'https://pve1:8006/', PROXMOX_VE_API_TOKEN: 't', SSL_CERT_FILE: '/lab/ca.pem' };
    expect(relayedTerraformEnv(env, 'https://127.0.0.1:41000/', '/tmp/ahl-relay-x/trust.pem')).toEqual({
      PATH: '/usr/bin',
      PROXMOX_VE_ENDPOINT: 'https://127.0.0.1:41000/',
      PROXMOX_VE_API_TOKEN: 't',
      SSL_CERT_FILE: '/tmp/ahl-relay-x/trust.pem',
    });
    expect(env.PROXMOX_VE_ENDPOINT).toBe('https://pve1:8006/');
  });
});

/** A TLS server with a self-signed certificate that answers any HTTP request with `name`, and records every byte it is sent. */
interface Upstream {
  readonly server: TlsServer;
  readonly port: number;
  readonly fingerprint: string;
  /** TCP connections accepted. */
  connections: number;
  /** Application bytes received, all connections. */
  received: string;
}

async function upstream(name: string): Promise<Upstream> {
  const { cert, key } = freshRelayCertificate('127.0.0.1');
  const u = { connections: 0, received: '' } as Upstream;
  const server = createTlsServer({ cert, key }, (socket) => {
    let request = '';
    socket.on('data', (chunk: Buffer) => {
      u.received += chunk.toString('latin1');
      request += chunk.toString('latin1');
      if (request.includes('\r\n\r\n')) socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${name.length}\r\nConnection: close\r\n\r\n${name}`);
    });
    socket.on('error', () => {});
  });
  server.on('connection', () => u.connections++);
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(u, { server, port: (server.address() as AddressInfo).port, fingerprint: new X509Certificate(cert).fingerprint256 });
}

/** A GET through the relay, trusting only the relay's certificate (as Terraform does). */
function fetchThrough(relay: PinnedRelay, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(`${relay.endpoint}${path}`, { ca: relay.cert, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

const close = (s: NetServer | TlsServer) => new Promise<void>((resolve) => s.close(() => resolve()));

describe('startPinnedRelay against a local TLS server with a self-signed certificate', () => {
  let a: Upstream;
  let b: Upstream;
  let relay: PinnedRelay | undefined;

  beforeAll(async () => {
    [a, b] = await Promise.all([upstream('server A'), upstream('server B')]);
  });
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
    for (const u of [a, b]) Object.assign(u, { connections: 0, received: '' });
  });
  afterAll(async () => {
    await Promise.all([close(a.server), close(b.server)]);
  });

  it('with the right pin, passes the request and the answer on', async () => {
    relay = await startPinnedRelay({ endpoint: `https://127.0.0.1:${a.port}/`, fingerprint: a.fingerprint });
    expect(relay.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await relay.check()).toEqual({ ok: true });
    expect(await fetchThrough(relay, 'api2/json/version')).toBe('server A');
    expect(a.received).toMatch(/^GET \/api2\/json\/version HTTP\/1\.1\r\n/);
    expect(relay.forwarded).toBe(1);
    expect(relay.refused).toBeUndefined();
  });

  it('with a wrong pin, drops the connection before a byte of the request reaches the server', async () => {
    relay = await startPinnedRelay({ endpoint: `https://127.0.0.1:${a.port}/`, fingerprint: b.fingerprint });
    await expect(fetchThrough(relay, 'api2/json/version')).rejects.toThrow(/socket hang up|ECONNRESET/);
    // The relay did reach the server and saw its certificate, and sent it nothing.
    expect(a.connections).toBe(1);
    expect(a.received).toBe('');
    expect(relay.forwarded).toBe(0);
    expect(relay.refused).toMatchObject({ expected: b.fingerprint, actual: a.fingerprint });
    const check = await relay.check();
    expect(check.ok).toBe(false);
    expect(check).toMatchObject({ mismatch: { expected: b.fingerprint, actual: a.fingerprint } });
    expect(a.received).toBe('');
  });

  it('checks every connection: a server swapped after the first one is refused', async () => {
    // A TCP forwarder in front of the servers: A first, then B on the same address.
    let target = a.port;
    const open = new Set<Socket>();
    const front = createNetServer((c) => {
      const s = netConnect(target, '127.0.0.1');
      for (const x of [c, s]) open.add(x);
      c.pipe(s).pipe(c);
      c.on('error', () => s.destroy());
      s.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      relay = await startPinnedRelay({ endpoint: `https://127.0.0.1:${(front.address() as AddressInfo).port}/`, fingerprint: a.fingerprint });
      expect(await fetchThrough(relay, 'first')).toBe('server A');
      target = b.port;
      await expect(fetchThrough(relay, 'second')).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(b.connections).toBe(1);
      expect(b.received).toBe('');
      expect(relay.forwarded).toBe(1);
      expect(relay.refused).toMatchObject({ expected: a.fingerprint, actual: b.fingerprint });
    } finally {
      for (const x of open) x.destroy();
      await close(front);
    }
  });

  it('says when the server cannot be reached, and a closed relay listens no more', async () => {
    const gone = createNetServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const port = (gone.address() as AddressInfo).port;
    await close(gone);
    relay = await startPinnedRelay({ endpoint: `https://127.0.0.1:${port}/`, fingerprint: a.fingerprint });
    expect(await relay.check()).toEqual({ ok: false, unreachable: 'ECONNREFUSED' });
    await expect(fetchThrough(relay, 'x')).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(relay.unreachable).toBe('ECONNREFUSED');
    expect(relay.refused).toBeUndefined();
    const endpoint = relay.endpoint;
    await relay.close();
    relay = undefined;
    await expect(
      new Promise((resolve, reject) => get(`${endpoint}x`, { rejectUnauthorized: false, agent: false }, resolve).on('error', reject)),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
