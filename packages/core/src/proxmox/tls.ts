import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { FingerprintMismatchError } from './errors.js';
import { normaliseFingerprint, type TlsPolicy } from './fingerprint.js';

/**
 * An undici dispatcher that applies the policy. A pinned fingerprint is checked on every new
 * connection after the handshake, before any request (and so any token) is sent.
 */
export function tlsDispatcher(policy: TlsPolicy): Dispatcher {
  const pinned = policy.fingerprint ? normaliseFingerprint(policy.fingerprint) : undefined;
  const base = buildConnector({
    // A resumed TLS session may not show the peer certificate; a full handshake always does.
    ...(pinned ? { maxCachedSessions: 0 } : {}),
    rejectUnauthorized: pinned ? false : policy.verify,
    ...(policy.ca && !pinned ? { ca: policy.ca } : {}),
  });
  const connect: buildConnector.connector = (opts, cb) =>
    base(opts, (err, socket) => {
      if (err || !pinned || opts.protocol !== 'https:') return err ? cb(err, null) : cb(null, socket!);
      const actual = normaliseFingerprint((socket as TLSSocket).getPeerCertificate().fingerprint256 ?? '');
      if (actual !== pinned) {
        socket!.destroy();
        return cb(new FingerprintMismatchError(pinned, actual), null);
      }
      cb(null, socket!);
    });
  return new Agent({ connect, keepAliveTimeout: 10_000 });
}
