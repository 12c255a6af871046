/** A Proxmox API call that answered with an error status. Carries what PVE said, never the token. */
export class ProxmoxApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly statusText: string,
    /** Per-parameter messages of a 400. */
    readonly errors: Readonly<Record<string, string>> | undefined,
  ) {
    super(`${method} ${path}: ${status} ${statusText}${errors ? ` (${Object.entries(errors).map(([k, v]) => `${k}: ${v}`).join('; ')})` : ''}`);
  }
}

/** The endpoint could not be reached (DNS, refused, TLS, timeout). */
export class ProxmoxUnreachableError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super(`${method} ${path}: ${reason}`);
  }
}

/** The pinned fingerprint does not match the server's certificate: names both, nothing secret. */
export class FingerprintMismatchError extends Error {
  readonly code = 'ERR_AHL_FINGERPRINT_MISMATCH';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`certificate fingerprint ${actual} does not match the pinned ${expected}`);
  }
}
