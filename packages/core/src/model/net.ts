/** IPv4 helpers for the lab model. Pure. */

export interface Ipv4Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly cidr: string;
}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

export function isIpv4(s: string): boolean {
  return IPV4_RE.test(s);
}

export function parseIpv4Cidr(s: string): Ipv4Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  if (!m || !isIpv4(m[1]!)) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 32) return undefined;
  return { address: m[1]!, prefix, cidr: s };
}

export function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** True when `ip` lies in the subnet of `cidr`. */
export function inSubnet(ip: string, cidr: Ipv4Cidr): boolean {
  const m = mask(cidr.prefix);
  return ((ipv4ToInt(ip) & m) >>> 0) === ((ipv4ToInt(cidr.address) & m) >>> 0);
}

/** The last address of a subnet a host may hold (the one before its broadcast address), e.g. 10.0.1.254 of 10.0.1.7/24. For prefixes up to /30. */
export function lastUsable(cidr: Ipv4Cidr): string {
  const n = ((ipv4ToInt(cidr.address) | ~mask(cidr.prefix)) >>> 0) - 1;
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

/** The network and broadcast addresses of a subnet, which no host may hold (except /31 and /32). */
export function isNetworkOrBroadcast(cidr: Ipv4Cidr): boolean {
  if (cidr.prefix >= 31) return false;
  const m = mask(cidr.prefix);
  const n = ipv4ToInt(cidr.address);
  return (n & ~m) >>> 0 === 0 || (n | ~m) >>> 0 === 0xffffffff;
}
