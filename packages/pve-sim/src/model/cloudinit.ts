import { createHash } from 'node:crypto';
import { parsePropertyString } from '../schema/validate.js';
import { HASH_FORMATS } from '../schema/formats.js';
import { parseOption } from './qemu-config.js';

/** Host DNS settings used when a guest config sets none (resolv.conf of the node). */
export interface HostDns {
  nameservers: string[];
  searchdomains: string[];
}

function hostnameFqdn(conf: Record<string, string>, vmid: number): [string, string] {
  let hostname = conf.name ?? `VM${vmid}`;
  let fqdn = hostname;
  if (hostname.includes('.')) {
    fqdn = hostname;
    hostname = hostname.split('.')[0]!;
  } else if (conf.searchdomain) {
    fqdn = `${hostname}.${conf.searchdomain.split(/\s+/)[0]}`;
  }
  return [hostname, fqdn];
}

/** Cloudinit.pm cloudinit_userdata, for the nocloud/configdrive2 user-data. */
export function userData(conf: Record<string, string>, vmid: number, maskPassword: boolean): string {
  const [hostname, fqdn] = hostnameFqdn(conf, vmid);
  let c = '#cloud-config\n';
  c += `hostname: ${hostname}\n`;
  c += 'manage_etc_hosts: true\n';
  c += `fqdn: ${fqdn}\n`;
  const user = conf.ciuser;
  if (user !== undefined) c += `user: ${user}\n`;
  if (user === 'root') c += 'disable_root: False\n';
  if (conf.cipassword !== undefined) c += `password: ${maskPassword ? '**********' : conf.cipassword}\n`;
  if (conf.sshkeys !== undefined) {
    const keys = decodeURIComponent(conf.sshkeys)
      .split('\n')
      .map((k) => k.replace(/\r$/, ''))
      .filter((k) => /\S/.test(k));
    c += 'ssh_authorized_keys:\n';
    for (const k of keys) c += `  - ${k}\n`;
  }
  c += 'chpasswd:\n  expire: False\n';
  if (user !== 'root') c += 'users:\n  - default\n';
  if (conf.ciupgrade === undefined || conf.ciupgrade === '1') c += 'package_upgrade: true\n';
  return c;
}

function netmask(bits: number): string {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((s) => (mask >>> s) & 255).join('.');
}

/** Cloudinit.pm nocloud_network (network-config version 1). */
export function networkData(conf: Record<string, string>, host: HostDns): string {
  let c = 'version: 1\nconfig:\n';
  const ifaces = Object.keys(conf)
    .filter((k) => /^net\d+$/.test(k))
    .sort();
  for (const iface of ifaces) {
    const id = iface.slice(3);
    const ipc = conf[`ipconfig${id}`];
    if (!ipc) continue;
    const net = parseOption(iface, conf[iface]!);
    const ip = parsePropertyString(HASH_FORMATS['pve-qm-ipconfig']!, ipc);
    const mac = (net.macaddr ?? '').toLowerCase();
    c += `    - type: physical\n      name: eth${id}\n      mac_address: '${mac}'\n      subnets:\n`;
    if (ip.ip !== undefined) {
      if (ip.ip === 'dhcp') c += '      - type: dhcp4\n';
      else {
        const [addr, bits] = ip.ip.split('/');
        c += `      - type: static\n        address: '${addr}'\n        netmask: '${netmask(Number(bits))}'\n`;
        if (ip.gw !== undefined) c += `        gateway: '${ip.gw}'\n`;
      }
    }
    if (ip.ip6 !== undefined) {
      if (ip.ip6 === 'dhcp') c += '      - type: dhcp6\n';
      else if (ip.ip6 === 'auto') c += '      - type: ipv6_slaac\n';
      else {
        c += `      - type: static6\n        address: '${ip.ip6}'\n`;
        if (ip.gw6 !== undefined) c += `        gateway: '${ip.gw6}'\n`;
      }
    }
  }
  const nameservers = conf.nameserver !== undefined ? conf.nameserver.split(/\s+/).filter(Boolean) : host.nameservers;
  const search = conf.searchdomain !== undefined ? conf.searchdomain.split(/\s+/).filter(Boolean) : host.searchdomains;
  if (nameservers.length || search.length) {
    c += '    - type: nameserver\n';
    if (nameservers.length) {
      c += '      address:\n';
      for (const n of nameservers) c += `      - '${n}'\n`;
    }
    if (search.length) {
      c += '      search:\n';
      for (const s of search) c += `      - '${s}'\n`;
    }
  }
  return c;
}

export function metaData(user: string, network: string): string {
  return `instance-id: ${createHash('sha1').update(user + network).digest('hex')}\n`;
}
