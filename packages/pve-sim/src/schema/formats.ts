import type { ParamSchema } from './types.js';

/**
 * Named string formats of PVE's JSONSchema.pm and the plugins that register
 * them. A verifier throws an Error whose message is PVE's `die` text (with its
 * trailing newline). Hash-based named formats are property-string schemas.
 */
export type FormatVerifier = (value: string) => void;

const fail = (msg: string): never => {
  throw new Error(msg);
};

const DNS_LABEL = '([a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?)';
const DNS_RE = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);
const IPV4_OCTET = '(?:25[0-5]|(?:2[0-4]|1[0-9]|[1-9])?[0-9])';
const IPV4_RE = `(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET}`;
const IPV6_RE = '(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?:%\\w+)?';
const VOLID_RE = /^(?:[a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i;
const STORAGE_ID_RE = /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i;
export const CONFIGID_RE = /^[a-z][a-z0-9_-]+$/i;
const TAG_RE = /^[a-z0-9_][a-z0-9_\-+.]*$/i;

function isIpv4(v: string): boolean {
  return new RegExp(`^${IPV4_RE}$`).test(v);
}
function isIpv6(v: string): boolean {
  return new RegExp(`^${IPV6_RE}$`).test(v) && v.includes(':');
}
function isCidr(v: string, family: 4 | 6): boolean {
  const m = /^(.+)\/(\d+)$/.exec(v);
  if (!m || m[1] === undefined || m[2] === undefined) return false;
  const bits = Number(m[2]);
  return family === 4 ? isIpv4(m[1]) && bits > 7 && bits <= 32 : isIpv6(m[1]) && bits > 7 && bits <= 128;
}

/** Whether `value` is a PVE volume id (`storage:name`). */
export function isVolumeId(value: string): boolean {
  return VOLID_RE.test(value);
}

export const STRING_FORMATS: Record<string, FormatVerifier> = {
  string: () => {},
  urlencoded: (v) => {
    if (!/^[-%a-zA-Z0-9_.!~*'()]*$/.test(v)) fail(`invalid urlencoded string: ${v}\n`);
  },
  'pve-configid': (v) => {
    if (!CONFIGID_RE.test(v)) fail(`invalid configuration ID '${v}'\n`);
  },
  'pve-storage-id': (v) => {
    if (!STORAGE_ID_RE.test(v)) fail(`storage ID '${v}' contains illegal characters\n`);
  },
  'pve-bridge-id': (v) => {
    if (!/^[-_.\w\d]+$/.test(v)) fail(`invalid bridge ID '${v}'\n`);
  },
  'pve-vmid': (v) => {
    if (!/^[1-9][0-9]{2,8}$/.test(v)) fail('value does not look like a valid VM ID\n');
  },
  'pve-node': (v) => {
    if (!/^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/.test(v)) fail('value does not look like a valid node name\n');
  },
  'mac-addr': (v) => {
    if (!/^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i.test(v)) fail('value does not look like a valid unicast MAC address\n');
  },
  ipv4: (v) => {
    if (!isIpv4(v)) fail('value does not look like a valid IPv4 address\n');
  },
  ipv6: (v) => {
    if (!isIpv6(v)) fail('value does not look like a valid IPv6 address\n');
  },
  ip: (v) => {
    if (!isIpv4(v) && !isIpv6(v)) fail('value does not look like a valid IP address\n');
  },
  CIDR: (v) => {
    if (!isCidr(v, 4) && !isCidr(v, 6)) fail('value does not look like a valid CIDR network\n');
  },
  CIDRv4: (v) => {
    if (!isCidr(v, 4)) fail('value does not look like a valid IPv4 CIDR network\n');
  },
  CIDRv6: (v) => {
    if (!isCidr(v, 6)) fail('value does not look like a valid IPv6 CIDR network\n');
  },
  'pve-ipv4-config': (v) => {
    if (!/^(?:dhcp|manual)$/.test(v) && !isCidr(v, 4)) fail('value does not look like a valid ipv4 network configuration\n');
  },
  'pve-ipv6-config': (v) => {
    if (!/^(?:auto|dhcp|manual)$/.test(v) && !isCidr(v, 6)) fail('value does not look like a valid ipv6 network configuration\n');
  },
  'dns-name': (v) => {
    if (!DNS_RE.test(v)) fail('value does not look like a valid DNS name\n');
  },
  address: (v) => {
    if (!isIpv4(v) && !isIpv6(v) && !DNS_RE.test(v)) fail(`value does not look like a valid address: ${v}\n`);
  },
  'address-list': (v) => {
    if (!isIpv4(v) && !isIpv6(v) && !DNS_RE.test(v)) fail(`value does not look like a valid address: ${v}\n`);
  },
  'disk-size': (v) => {
    if (parseSize(v) === undefined) fail(`value does not look like a valid disk size: ${v}\n`);
  },
  'pve-tag': (v) => {
    if (!TAG_RE.test(v)) fail('invalid characters in tag\n');
  },
  'pve-startup-order': (v) => {
    const ok = v !== '' && v.split(',').every((p) => /^\s*$/.test(p) || /^(order=)?\d+$/.test(p) || /^up=\d+$/.test(p) || /^down=\d+$/.test(p));
    if (!ok) fail('unable to parse startup options\n');
  },
  'pve-task-status-type': (v) => {
    if (!/^(ok|error|warning|unknown)$/i.test(v)) fail(`invalid status '${v}'\n`);
  },
  'pve-poolid': (v) => {
    if (!/^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+){0,2}$/.test(v)) fail(`invalid pool ID '${v}'\n`);
  },
  'pve-userid': (v) => {
    if (!/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(v)) fail(`value '${v}' does not look like a valid user name\n`);
  },
  'pve-tokenid': (v) => {
    if (!/^(?:[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+!)?[A-Za-z][A-Za-z0-9.\-_]+$/.test(v)) fail(`value '${v}' does not look like a valid token ID\n`);
  },
  'pve-groupid': (v) => {
    if (!/^[-_.a-zA-Z0-9]+$/.test(v)) fail(`invalid group name '${v}'\n`);
  },
  'pve-roleid': (v) => {
    if (!/^[-_.a-zA-Z0-9]+$/.test(v)) fail(`invalid role name '${v}'\n`);
  },
  'pve-priv': () => {},
  'pve-realm': (v) => {
    if (!/^[A-Za-z][A-Za-z0-9.\-_]+$/.test(v)) fail(`realm '${v}' contains illegal characters\n`);
  },
  'pve-storage-content': (v) => {
    if (!['images', 'rootdir', 'vztmpl', 'iso', 'backup', 'snippets', 'import', 'none'].includes(v)) fail(`invalid content type '${v}'\n`);
  },
  'pve-volume-id': (v) => {
    if (!VOLID_RE.test(v)) fail(`unable to parse volume ID '${v}'\n`);
  },
  'pve-volume-id-or-qm-path': (v) => {
    if (v === 'none' || v === 'cdrom' || v.startsWith('/') || VOLID_RE.test(v)) return;
    fail(`unable to parse volume ID '${v}'\n`);
  },
  'pve-volume-id-or-absolute-path': (v) => {
    if (v.startsWith('/') || VOLID_RE.test(v)) return;
    fail(`unable to parse volume ID '${v}'\n`);
  },
  'pve-vmid-list-entry': (v) => {
    if (!/^[1-9][0-9]{2,8}$/.test(v)) fail('value does not look like a valid VM ID\n');
  },
  'email-or-username': () => {},
  'pve-qm-bootdisk': (v) => {
    if (!/^(ide|sata|scsi|virtio|efidisk|tpmstate)\d+$/.test(v)) fail(`invalid drive key '${v}'\n`);
  },
  'pve-qm-usb-device': () => {},
  'pve-hotplug-features': (v) => {
    if (/^(?:0|1)$/.test(v)) return;
    for (const f of v.split(',')) {
      if (!['network', 'disk', 'cpu', 'memory', 'usb', 'cloudinit'].includes(f)) fail(`invalid hotplug feature '${f}'\n`);
    }
  },
  'pve-cpuset': () => {},
};
// `-list` variants look up their element format in this table; pve-vmid-list's element is pve-vmid.
STRING_FORMATS['pve-vmid-list-entry'] = STRING_FORMATS['pve-vmid']!;

const ipconfig: Record<string, ParamSchema> = {
  ip: { type: 'string', format: 'pve-ipv4-config', optional: 1 },
  gw: { type: 'string', format: 'ipv4', optional: 1 },
  ip6: { type: 'string', format: 'pve-ipv6-config', optional: 1 },
  gw6: { type: 'string', format: 'ipv6', optional: 1 },
};

/** Hash-based named formats the apidoc names but does not expand. */
export const HASH_FORMATS: Record<string, Record<string, ParamSchema>> = {
  'pve-qm-ipconfig': ipconfig,
  'pve-qm-boot': {
    legacy: { type: 'string', pattern: '[acdn]{1,4}', optional: 1 },
    order: { type: 'string', format: 'pve-qm-bootdev-list', optional: 1, default_key: 1 },
  },
  'pve-qm-smbios1': {
    uuid: { type: 'string', pattern: '[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}', optional: 1 },
    version: { type: 'string', optional: 1 },
    serial: { type: 'string', optional: 1 },
    manufacturer: { type: 'string', optional: 1 },
    product: { type: 'string', optional: 1 },
    sku: { type: 'string', optional: 1 },
    family: { type: 'string', optional: 1 },
    base64: { type: 'boolean', optional: 1 },
  },
  'pve-vm-cpu-conf': {
    cputype: { type: 'string', pattern: '[\\w.+\\-]+', optional: 1, default_key: 1 },
    flags: { type: 'string', pattern: '(?:[+-][a-zA-Z0-9\\-_.]+;?)*', optional: 1 },
    hidden: { type: 'boolean', optional: 1 },
    'hv-vendor-id': { type: 'string', pattern: '[a-zA-Z0-9]{1,12}', optional: 1 },
    'phys-bits': { type: 'string', pattern: '(8|9|[1-5][0-9]|6[0-4]|host)', optional: 1 },
    'reported-model': { type: 'string', optional: 1 },
  },
  'pve-qm-cicustom': {
    meta: { type: 'string', format: 'pve-volume-id', optional: 1 },
    network: { type: 'string', format: 'pve-volume-id', optional: 1 },
    user: { type: 'string', format: 'pve-volume-id', optional: 1 },
    vendor: { type: 'string', format: 'pve-volume-id', optional: 1 },
  },
  'pve-qm-watchdog': {
    model: { type: 'string', enum: ['i6300esb', 'ib700'], optional: 1, default_key: 1 },
    action: { type: 'string', enum: ['reset', 'shutdown', 'poweroff', 'pause', 'debug', 'none'], optional: 1 },
  },
  'pve-qm-rng': {
    source: { type: 'string', enum: ['/dev/urandom', '/dev/random', '/dev/hwrng'], default_key: 1 },
    max_bytes: { type: 'integer', optional: 1 },
    period: { type: 'integer', optional: 1 },
  },
};

STRING_FORMATS['pve-qm-bootdev'] = (v) => {
  if (!/^(ide|sata|scsi|virtio|efidisk|tpmstate)\d+$/.test(v) && !/^(net|hostpci|usb)\d+$/.test(v)) fail(`invalid boot device '${v}'\n`);
};

/** PVE::JSONSchema::parse_size: bytes, or undefined when unparsable. */
export function parseSize(value: string): number | undefined {
  const m = /^(\d+(\.\d+)?)([KMGT])?$/.exec(value);
  if (!m) return undefined;
  const mult = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[3] as 'K' | 'M' | 'G' | 'T'] ?? 1;
  return Math.floor(Number(m[1]) * mult);
}

/** PVE::JSONSchema::format_size: the largest unit that divides exactly. */
export function formatSize(size: number): string {
  size = Math.floor(size);
  const kb = Math.floor(size / 1024);
  if (kb * 1024 !== size) return String(size);
  const mb = Math.floor(kb / 1024);
  if (mb * 1024 !== kb) return `${kb}K`;
  const gb = Math.floor(mb / 1024);
  if (gb * 1024 !== mb) return `${mb}M`;
  const tb = Math.floor(gb / 1024);
  if (tb * 1024 !== gb) return `${gb}G`;
  return `${tb}T`;
}

/** PVE::Tools::split_list. */
export function splitList(value: string): string[] {
  if (value.includes('\0')) return value.split('\0');
  return value
    .replace(/[,;]/g, ' ')
    .trim()
    .split(/\s+/)
    .filter((s) => s !== '');
}
