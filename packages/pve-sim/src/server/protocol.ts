/**
 * Pure pieces of PVE's HTTP layer (pve-http-server AnyEvent.pm / Formatter):
 * form decoding, auth header parsing, reason phrases and version gates.
 */

/** decode_urlencoded: pairs split on `&` and `;`, `+` is a space, repeated keys become arrays, `_dc` is dropped. */
export function decodeForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!text) return out;
  for (const pair of text.split(/[&;]/)) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const key = decodeComponent(rawKey);
    const value = eq < 0 ? null : decodeComponent(pair.slice(eq + 1));
    if (key === '_dc') continue;
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[key] = [prev, value];
  }
  return out;
}

function decodeComponent(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** The value of `name=` in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(/;\s*/)) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return uriUnescape(part.slice(eq + 1));
  }
  return undefined;
}

/** extract_auth_value for `Authorization: PVEAPIToken=…` (or `PVEAPIToken …`), up to `;`, URI-unescaped. */
export function tokenFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^PVEAPIToken[= ]([^;]*)/.exec(header.trim());
  return m?.[1] !== undefined ? uriUnescape(m[1]) : undefined;
}

/** URI::Escape::uri_unescape: `%XX` only (a `+` stays a `+`). */
function uriUnescape(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function ticketFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^PVEAuthCookie=([^;]*)/.exec(header.trim());
  return m?.[1] !== undefined ? uriUnescape(m[1]) : undefined;
}

/** A reason phrase Node accepts: the first line, without control characters. */
export function reasonPhrase(message: string, fallback: string): string {
  const first = message.split('\n')[0] ?? '';
  const clean = first.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
  return clean === '' ? fallback : clean;
}

/** Compares dotted versions numerically: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Version-dependent behaviour of the PVE release being simulated. */
export interface VersionTraits {
  /** JSON error bodies carry `message` (libpve-http-server-perl ≥ 5.2.0, taken as PVE ≥ 8.3.4). */
  errorMessageInBody: boolean;
  /** Every ticket/token failure is `Authentication failed!` (pve-manager ≥ 9.1.5). */
  genericAuthFailure: boolean;
}

export function versionTraits(pveVersion: string): VersionTraits {
  return {
    errorMessageInBody: compareVersions(pveVersion, '8.3.4') >= 0,
    genericAuthFailure: compareVersions(pveVersion, '9.1.5') >= 0,
  };
}
