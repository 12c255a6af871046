import { Agent as HttpAgent, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect, type ConnectionOptions } from 'node:tls';
import { FingerprintMismatchError } from './errors.js';
import { normaliseFingerprint, type TlsPolicy } from './fingerprint.js';

/**
 * A keep-alive agent for the endpoint that applies the policy. A pinned fingerprint is checked on
 * every new connection after the handshake, before the connection is handed to a request (and so
 * before any token is sent). Node's own http(s) agents: undici costs ~100 ms to load, which every
 * `ahl status` would pay for one request.
 */
export function endpointAgent(protocol: string, policy: TlsPolicy): HttpAgent {
  const keepAlive = { keepAlive: true, timeout: 60_000 };
  if (protocol !== 'https:') return new HttpAgent(keepAlive);
  const pinned = policy.fingerprint ? normaliseFingerprint(policy.fingerprint) : undefined;
  if (!pinned) return new HttpsAgent({ ...keepAlive, rejectUnauthorized: policy.verify, ...(policy.ca ? { ca: policy.ca } : {}) });
  return new PinnedAgent({ ...keepAlive, rejectUnauthorized: false }, pinned);
}

class PinnedAgent extends HttpsAgent {
  constructor(
    options: AgentOptions,
    private readonly pinned: string,
  ) {
    // A resumed TLS session may not show the peer certificate; a full handshake always does.
    super({ ...options, maxCachedSessions: 0 });
  }

  // The callback form: the agent waits for it, so no request is written before the check.
  override createConnection(options: ClientRequestArgs, cb: (err: Error | null, socket: Duplex) => void): undefined {
    const socket = connect({ ...(options as ConnectionOptions), rejectUnauthorized: false });
    const fail = (err: Error) => cb(err, undefined as never);
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.off('error', fail);
      const actual = normaliseFingerprint(socket.getPeerCertificate().fingerprint256 ?? '');
      if (actual !== this.pinned) {
        socket.destroy();
        return cb(new FingerprintMismatchError(this.pinned, actual), undefined as never);
      }
      cb(null, socket);
    });
    return undefined;
  }
}
