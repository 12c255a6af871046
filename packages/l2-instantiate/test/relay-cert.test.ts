import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificatePem, freshRelayCertificate, relayCertificateDer, type RelayCertificateFields } from '../src/relay-cert.js';

const fields: RelayCertificateFields = {
  serial: Buffer.from('4a0102030405060708090a0b0c0d0e0f', 'hex'),
  notBefore: new Date('2026-11-01T12:00:00Z'),
  notAfter: new Date('2026-12-01T12:00:00Z'),
  commonName: 'ahl terraform relay',
  ip: '127.0.0.1',
};

describe('relayCertificateDer', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const der = relayCertificateDer(fields, spki, (tbs) => sign('sha256', tbs, privateKey));
  const cert = new X509Certificate(der);

  it('is a self-signed leaf for the relay address that OpenSSL parses and verifies', () => {
    expect(cert.subject).toBe('CN=ahl terraform relay');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.serialNumber).toBe('4A0102030405060708090A0B0C0D0E0F');
    expect(new Date(cert.validFrom).toISOString()).toBe('2026-11-01T12:00:00.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2026-12-01T12:00:00.000Z');
    expect(cert.subjectAltName).toBe('IP Address:127.0.0.1');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('10.0.0.1')).toBeUndefined();
    expect(cert.checkHost('localhost')).toBeUndefined();
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(spki);
    expect(cert.verify(publicKey)).toBe(true);
    expect(cert.checkPrivateKey(privateKey)).toBe(true);
  });

  it('is the same bytes for the same fields, key and signature', () => {
    const fixed = () => Buffer.from('3006020101020101', 'hex');
    expect(relayCertificateDer(fields, spki, fixed)).toEqual(relayCertificateDer(fields, spki, fixed));
    expect(relayCertificateDer({ ...fields, ip: '10.1.2.3' }, spki, fixed)).not.toEqual(relayCertificateDer(fields, spki, fixed));
  });

  it('writes times from 2050 on as GeneralizedTime (RFC 5280)', () => {
    const late = new X509Certificate(relayCertificateDer({ ...fields, notAfter: new Date('2051-01-02T03:04:05Z') }, spki, (tbs) => sign('sha256', tbs, privateKey)));
    expect(new Date(late.validTo).toISOString()).toBe('2051-01-02T03:04:05.000Z');
  });

  it.each([
    [{ ip: 'localhost' }, /not an IPv4 address/],
    [{ serial: Buffer.from([0x80, 1]) }, /positive/],
    [{ serial: Buffer.from([0, 1]) }, /leading zero/],
    [{ serial: Buffer.alloc(0) }, /1-20 bytes/],
  ])('refuses %j', (bad, message) => {
    expect(() => relayCertificateDer({ ...fields, ...bad }, spki, () => Buffer.alloc(0))).toThrow(message);
  });

  it('armours DER as PEM in 64-column lines', () => {
    const pem = certificatePem(der);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----\n')).toBe(true);
    expect(pem.endsWith('\n-----END CERTIFICATE-----\n')).toBe(true);
    expect(pem.split('\n').slice(1, -3).every((l) => l.length === 64)).toBe(true);
    expect(new X509Certificate(pem).raw).toEqual(der);
  });
});

describe('freshRelayCertificate', () => {
  it('makes a new key and certificate each time, valid now, the key in PEM', () => {
    const now = new Date('2026-11-01T12:00:00Z');
    const a = freshRelayCertificate('127.0.0.1', now);
    const b = freshRelayCertificate('127.0.0.1', now);
    expect(a.cert).not.toBe(b.cert);
    expect(a.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const cert = new X509Certificate(a.cert);
    expect(new Date(cert.validFrom).getTime()).toBeLessThan(now.getTime());
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(now.getTime() + 7 * 86_400_000);
    expect(cert.serialNumber).not.toBe(new X509Certificate(b.cert).serialNumber);
  });
});
