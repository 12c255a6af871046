import { X509Certificate } from 'node:crypto';

/** How the server's certificate is trusted. */
export interface TlsPolicy {
  /** Verify against the system CAs (and `ca` when given). Ignored when a fingerprint is pinned. */
  readonly verify: boolean;
  /** A pinned SHA-256 fingerprint (AA:BB:…): the certificate must be exactly this one, whoever signed it. */
  readonly fingerprint?: string;
  /** PEM text of extra CAs to trust. */
  readonly ca?: string;
}

export function normaliseFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-fA-F]/g, '').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/** The SHA-256 fingerprint of a PEM certificate, as AA:BB:…. */
export function pemFingerprint(pem: string): string {
  return normaliseFingerprint(new X509Certificate(pem).fingerprint256);
}
