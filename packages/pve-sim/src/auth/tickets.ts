import { createHmac, timingSafeEqual } from 'node:crypto';

/** Ticket lifetime in seconds (PVE: 2 h). */
export const TICKET_LIFETIME = 7200;

const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');

function sign(key: string, data: string): string {
  return createHmac('sha256', key).update(data).digest('base64');
}

/**
 * `PVE:<userid>:<8 hex time>::<base64 signature>`. PVE signs with RSA; the
 * sim uses an HMAC, which clients cannot tell apart (they treat it as opaque).
 */
export function createTicket(key: string, userid: string, now: number): string {
  const plain = `PVE:${encodeURIComponent(userid).replace(/%40/g, '@').replace(/%21/g, '!')}:${hex8(now)}`;
  return `${plain}::${sign(key, plain)}`;
}

/** The userid of a valid, unexpired ticket, or undefined. */
export function verifyTicket(key: string, ticket: string, now: number): string | undefined {
  const m = /^(PVE:([^:]+):([0-9A-F]{8}))::(.+)$/.exec(ticket);
  if (!m || !m[1] || !m[2] || !m[3] || !m[4]) return undefined;
  const expected = Buffer.from(sign(key, m[1]));
  const got = Buffer.from(m[4]);
  if (expected.length !== got.length || !timingSafeEqual(expected, got)) return undefined;
  const age = now - parseInt(m[3], 16);
  if (age < -300 || age > TICKET_LIFETIME) return undefined;
  return decodeURIComponent(m[2]);
}

/** `<8 hex time>:<base64 HMAC-SHA256, unpadded>`, bound to the user. */
export function createCsrfToken(key: string, userid: string, now: number): string {
  const ts = hex8(now);
  return `${ts}:${sign(key, `${ts}:${userid}`).replace(/=+$/, '')}`;
}

export function verifyCsrfToken(key: string, userid: string, token: string, now: number): boolean {
  const m = /^([0-9A-F]{8}):(\S+)$/.exec(token);
  if (!m || !m[1] || !m[2]) return false;
  if (sign(key, `${m[1]}:${userid}`).replace(/=+$/, '') !== m[2]) return false;
  const age = now - parseInt(m[1], 16);
  return age > -300 && age < TICKET_LIFETIME;
}
