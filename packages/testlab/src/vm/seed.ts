import { createHash } from 'node:crypto';

/** The three NoCloud documents Proxmox VE generates for a guest (see the reference's cloud-init section). */
export interface CloudInitSeed {
  readonly userData: string;
  readonly networkConfig: string;
  readonly metaData: string;
}

export interface SeedInput {
  readonly hostname: string;
  readonly searchDomain?: string;
  readonly user?: string;
  readonly sshKeys: readonly string[];
  readonly mac: string;
  /** Static IPv4 with prefix, e.g. 10.77.0.11/24. */
  readonly ip: string;
  readonly gateway?: string;
  readonly nameservers?: readonly string[];
  /** Proxmox's ciupgrade; off for offline guests, whose apt cannot reach a mirror. */
  readonly upgrade?: boolean;
}

function netmask(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (m >>> s) & 255).join('.');
}

/** Renders the NoCloud seed in Proxmox's format. Pure. */
export function nocloudSeed(s: SeedInput): CloudInitSeed {
  const fqdn = s.searchDomain ? `${s.hostname}.${s.searchDomain.split(' ')[0]}` : s.hostname;
  const user = [
    '#cloud-config',
    `hostname: ${s.hostname}`,
    'manage_etc_hosts: true',
    `fqdn: ${fqdn}`,
    ...(s.user ? [`user: ${s.user}`] : []),
    ...(s.sshKeys.length ? ['ssh_authorized_keys:', ...s.sshKeys.map((k) => `  - ${k}`)] : []),
    'chpasswd:',
    '  expire: False',
    'users:',
    '  - default',
    ...(s.upgrade === false ? [] : ['package_upgrade: true']),
    '',
  ].join('\n');
  const [address, prefix] = s.ip.split('/') as [string, string];
  const network = [
    'version: 1',
    'config:',
    '    - type: physical',
    '      name: eth0',
    `      mac_address: '${s.mac.toLowerCase()}'`,
    '      subnets:',
    '      - type: static',
    `        address: '${address}'`,
    `        netmask: '${netmask(Number(prefix))}'`,
    ...(s.gateway ? [`        gateway: '${s.gateway}'`] : []),
    ...(s.nameservers?.length || s.searchDomain
      ? [
          '    - type: nameserver',
          '      address:',
          ...(s.nameservers ?? []).map((n) => `      - '${n}'`),
          ...(s.searchDomain ? ['      search:', ...s.searchDomain.split(' ').map((d) => `      - '${d}'`)] : []),
        ]
      : []),
    '',
  ].join('\n');
  const meta = `instance-id: ${createHash('sha1').update(user + network).digest('hex')}\n`;
  return { userData: user, networkConfig: network, metaData: meta };
}
