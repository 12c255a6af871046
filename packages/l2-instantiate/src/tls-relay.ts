import { isIP, type AddressInfo, type Socket } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { FingerprintMismatchError, normaliseFingerprint } from '@ahl/core';
import { freshRelayCertificate } from './relay-cert.js';

/*
 * A lab that pins its Proxmox server's certificate must not have Terraform talk to any other server,
 * and the bpg provider can only verify against CAs or not at all. So, for the life of one Terraform
 * process, Terraform's endpoint is this relay on 127.0.0.1, whose certificate is made for the run and
 * is the one Terraform is told to trust (the provider runs with `insecure: false`). For each
 * connection Terraform opens, the relay opens one to the real endpoint and compares the certificate
 * it presents with the pin; only on a match does it pass bytes, either way. The check is on every
 * connection, so a server swapped after ahl's own check is refused just the same.
 */

/** Where the relay connects: the lab's endpoint as a TLS peer. */
export interface RelayUpstream {
  readonly host: string;
  readonly port: number;
  /** SNI: the endpoint's host name (none for an IP address). */
  readonly servername?: string;
}

/** The TLS peer of an `https:` endpoint (default port 443). */
export function relayUpstream(endpoint: string): RelayUpstream {
  const u = new URL(endpoint);
  if (u.protocol !== 'https:') throw new TypeError(`a pinned endpoint must be https: ${endpoint}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: u.port ? Number(u.port) : 443, ...(isIP(host) ? {} : { servername: host }) };
}

/** The endpoint Terraform is given: the lab's, with its origin replaced by the relay's (path kept, trailing slash). */
export function relayEndpoint(endpoint: string, relay: { readonly host: string; readonly port: number }): string {
  const u = new URL(endpoint);
  const path = u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  return `https://${relay.host}:${relay.port}${path}`;
}

/** The pin check: undefined when `presented` (any notation) is the pinned certificate, else the mismatch. */
export function checkPin(pinned: string, presented: string | undefined): FingerprintMismatchError | undefined {
  const expected = normaliseFingerprint(pinned);
  const actual = normaliseFingerprint(presented ?? '');
  return actual !== '' && actual === expected ? undefined : new FingerprintMismatchError(expected, actual || '(no certificate)');
}

/** A check of the upstream alone: the pin matched, the certificate is another, or it could not be reached. */
export type UpstreamCheck = { readonly ok: true } | { readonly ok: false; readonly mismatch: FingerprintMismatchError } | { readonly ok: false; readonly unreachable: string };

export interface PinnedRelay {
  /** The endpoint for Terraform: https://127.0.0.1:PORT/… */
  readonly endpoint: string;
  /** PEM of the relay's certificate, the one Terraform must trust. */
  readonly cert: string;
  /** The first connection refused because the upstream certificate was not the pinned one. */
  readonly refused: FingerprintMismatchError | undefined;
  /** The first upstream connection that failed (refused, reset, timed out, TLS error). */
  readonly unreachable: string | undefined;
  /** Connections whose bytes were passed on (the pin matched). */
  readonly forwarded: number;
  /** Connects upstream once and checks the pin, as every relayed connection does; sends nothing. */
  check(): Promise<UpstreamCheck>;
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

export interface PinnedRelayOptions {
  /** The lab's endpoint (https). */
  readonly endpoint: string;
  /** The pinned SHA-256 fingerprint. */
  readonly fingerprint: string;
  /** How long an upstream connection may take to connect and finish its handshake (default 30 s). */
  readonly connectTimeoutMs?: number;
}

/** Starts a relay on 127.0.0.1 (a free port) with a certificate made now. */
export async function startPinnedRelay(opts: PinnedRelayOptions): Promise<PinnedRelay> {
  const upstream = relayUpstream(opts.endpoint);
  const timeout = opts.connectTimeoutMs ?? 30_000;
  const { cert, key } = freshRelayCertificate('127.0.0.1');
  const sockets = new Set<Socket>();
  let refused: FingerprintMismatchError | undefined;
  let unreachable: string | undefined;
  let forwarded = 0;

  /** An upstream TLS connection whose certificate is the pinned one; never written to before that. */
  function openUpstream(): Promise<{ socket: TLSSocket } | { mismatch: FingerprintMismatchError } | { unreachable: string }> {
    return new Promise((resolve) => {
      // No session is offered: a full handshake always shows the peer's certificate.
      const socket = connect({ host: upstream.host, port: upstream.port, ...(upstream.servername ? { servername: upstream.servername } : {}), rejectUnauthorized: false });
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      const fail = (reason: string) => {
        socket.destroy();
        resolve({ unreachable: reason });
      };
      socket.setTimeout(timeout, () => fail(`no TLS handshake within ${timeout} ms`));
      socket.once('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
      socket.once('secureConnect', () => {
        socket.setTimeout(0);
        const mismatch = checkPin(opts.fingerprint, socket.getPeerCertificate().fingerprint256);
        if (mismatch) {
          socket.destroy();
          return resolve({ mismatch });
        }
        socket.removeAllListeners('error');
        resolve({ socket });
      });
    });
  }

  const server = createServer({ cert, key }, (client) => {
    // Nothing Terraform sends is read before the upstream has shown the pinned certificate.
    client.pause();
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    void openUpstream().then((up) => {
      if (!('socket' in up)) {
        if ('mismatch' in up) refused ??= up.mismatch;
        else unreachable ??= up.unreachable;
        client.destroy();
        return;
      }
      if (client.destroyed) return void up.socket.destroy();
      forwarded++;
      up.socket.on('error', () => client.destroy());
      up.socket.once('close', () => client.destroy());
      client.once('close', () => up.socket.destroy());
      client.pipe(up.socket);
      up.socket.pipe(client);
    });
  });
  // A client that fails its handshake with the relay is no concern of the lab's.
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: relayEndpoint(opts.endpoint, { host: '127.0.0.1', port }),
    cert,
    get refused() {
      return refused;
    },
    get unreachable() {
      return unreachable;
    },
    get forwarded() {
      return forwarded;
    },
    async check() {
      const up = await openUpstream();
      if ('socket' in up) {
        up.socket.destroy();
        return { ok: true };
      }
      return { ok: false, ...up };
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
