import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIPv4 } from 'node:net';

/*
 * The certificate of the TLS relay Terraform talks to when the lab pins the server's certificate
 * (tls-relay.ts). Node can sign but has no API to write an X.509 certificate, so the few DER fields
 * of this one fixed shape are written here; the key pair and the signature are Node's (OpenSSL's).
 * A malformed certificate fails closed: the provider would refuse the relay, never trust more.
 */

/** What goes into the relay's certificate besides its key. */
export interface RelayCertificateFields {
  /** Positive, at most 20 bytes. */
  readonly serial: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly commonName: string;
  /** The IPv4 address the relay listens on, the certificate's only subject alternative name. */
  readonly ip: string;
}

/**
 * The DER of a self-signed ECDSA P-256 / SHA-256 certificate for `fields.ip`: subject = issuer = CN,
 * a leaf (basicConstraints without CA, key usage digitalSignature, extended key usage serverAuth).
 * `spki` is the DER SubjectPublicKeyInfo of the P-256 key `signTbs` signs with (ECDSA, DER signature).
 * Pure: the same inputs and signature give the same bytes.
 */
export function relayCertificateDer(fields: RelayCertificateFields, spki: Buffer, signTbs: (tbs: Buffer) => Buffer): Buffer {
  if (!isIPv4(fields.ip)) throw new TypeError(`relay certificate: ${fields.ip} is not an IPv4 address`);
  if (fields.serial.length === 0 || fields.serial.length > 20 || fields.serial[0]! >= 0x80 || fields.serial[0] === 0)
    throw new TypeError('relay certificate: the serial must be 1-20 bytes, positive, without a leading zero byte');
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(set(seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(fields.commonName, 'utf8')))));
  const extensions = [
    extension('2.5.29.19', true, seq()),
    extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x07, 0x80]))),
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
    extension('2.5.29.17', false, seq(tlv(0x87, Buffer.from(fields.ip.split('.').map(Number))))),
  ];
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, fields.serial),
    ecdsaWithSha256,
    name,
    seq(time(fields.notBefore), time(fields.notAfter)),
    name,
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  return seq(tbs, ecdsaWithSha256, tlv(0x03, Buffer.concat([Buffer.from([0]), signTbs(tbs)])));
}

/** PEM armour for a DER certificate. */
export function certificatePem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** A certificate made now for one relay's lifetime, with its private key (kept in memory only). */
export interface RelayCertificate {
  readonly cert: string;
  /** PKCS#8 PEM (Node's TLS server takes no KeyObject). */
  readonly key: string;
}

/** A fresh key pair and certificate for a relay on `ip`, valid from an hour ago for 30 days. */
export function freshRelayCertificate(ip = '127.0.0.1', now = new Date()): RelayCertificate {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const der = relayCertificateDer(
    { serial, notBefore: new Date(now.getTime() - 3_600_000), notAfter: new Date(now.getTime() + 30 * 86_400_000), commonName: 'ahl terraform relay', ip },
    publicKey.export({ type: 'spki', format: 'der' }),
    (tbs) => sign('sha256', tbs, privateKey),
  );
  return { cert: certificatePem(der), key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  if (n > 0xffff) throw new RangeError('relay certificate: a DER value over 64 KiB');
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) groups.unshift((v & 0x7f) | 0x80);
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5), to the second, in UTC. */
function time(d: Date): Buffer {
  const iso = d.toISOString();
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}
