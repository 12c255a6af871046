import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, colon-separated uppercase hex (as PVE shows it). */
  fingerprint: string;
}

/** A self-signed P-256 certificate for `host`, made with the `openssl` CLI. */
export async function generateCertificate(host: string): Promise<TlsMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'pve-sim-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    const san = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? `IP:${host},DNS:localhost,IP:127.0.0.1` : `DNS:${host},DNS:localhost,IP:127.0.0.1`;
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '825',
      '-subj',
      `/CN=${host}/O=pve-sim`,
      '-addext',
      `subjectAltName=${san}`,
    ]);
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key, fingerprint: fingerprintOf(cert) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}
