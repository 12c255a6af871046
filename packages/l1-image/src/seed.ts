import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ahlError, yamlLib, type Host, type Lab } from '@ahl/core';

/*
 * A NoCloud seed for a bare-metal host: the three documents cloud-init reads from a volume labelled
 * `cidata` (user-data, meta-data, network-config v2), rendered from the lab as Proxmox renders them
 * for a VM — the cloud-init user with the lab's keys, the hostname, the static address — so a stock
 * cloud image or an autoinstalled system comes up reachable for L3 and L4. Rendering is pure; the
 * ISO is written by genisoimage.
 */

export interface NoCloudSeed {
  readonly 'meta-data': string;
  readonly 'user-data': string;
  readonly 'network-config': string;
}

/** A YAML document as cloud-init (PyYAML, YAML 1.1) reads it: written by the serialiser, never pieced together from strings. */
const yaml = (value: unknown) => yamlLib().stringify(value, { lineWidth: 0, version: '1.1' });

/** The seed documents of a host. Pure: the same lab gives the same bytes. */
export function renderNoCloud(lab: Lab, host: Host): NoCloudSeed {
  const user = lab.config.cloudInit.user;
  const fqdn = host.searchDomain ? `${host.name}.${host.searchDomain}` : host.name;
  const userData =
    '#cloud-config\n' +
    yaml({
      hostname: host.name,
      fqdn,
      manage_etc_hosts: true,
      users: [
        { name: user, shell: '/bin/bash', groups: ['sudo'], sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: true, ssh_authorized_keys: [...lab.config.cloudInit.sshKeys] },
      ],
      ssh_pwauth: false,
      disable_root: true,
      ...(host.system?.timezone ? { timezone: host.system.timezone } : {}),
      package_update: false,
    });
  const networkConfig = yaml({
    version: 2,
    ethernets: {
      lan0: {
        // Physical NICs are named by the kernel (eno1, enp3s0…): match the declared MAC, else any wired one.
        ...(host.mac ? { match: { macaddress: host.mac.toLowerCase() }, 'set-name': 'lan0' } : { match: { name: 'en*' } }),
        ...(host.ip ? { addresses: [host.ip.cidr] } : { dhcp4: true }),
        // `to: default` is newer than the cloud-init of Debian 12 (22.4), which rejects it; 0.0.0.0/0 works everywhere.
        ...(host.gateway ? { routes: [{ to: '0.0.0.0/0', via: host.gateway }] } : {}),
        ...(host.dns.length || host.searchDomain
          ? { nameservers: { ...(host.dns.length ? { addresses: [...host.dns] } : {}), ...(host.searchDomain ? { search: [host.searchDomain] } : {}) } }
          : {}),
      },
    },
  });
  // A new instance-id whenever the seed changes, so cloud-init applies a changed seed once more.
  const digest = createHash('sha256').update(userData).update(networkConfig).digest('hex').slice(0, 12);
  const metaData = yaml({ 'instance-id': `ahl-${host.name}-${digest}`, 'local-hostname': host.name });
  return { 'meta-data': metaData, 'user-data': userData, 'network-config': networkConfig };
}

/** Writes the seed as an ISO 9660 volume labelled `cidata` with genisoimage. */
export async function writeSeedIso(seed: NoCloudSeed, file: string, genisoimage = 'genisoimage'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ahl-seed-'));
  try {
    for (const [name, text] of Object.entries(seed)) await writeFile(join(dir, name), text);
    await mkdir(dirname(file), { recursive: true });
    const { execa } = await import('execa');
    const r = await execa(genisoimage, ['-quiet', '-output', file, '-volid', 'cidata', '-joliet', '-rock', ...Object.keys(seed)], { cwd: dir, reject: false });
    if (r.exitCode !== 0 || r.failed)
      throw ahlError('TOOL_FAILED', { tool: genisoimage, reason: (r.stderr || r.shortMessage || `exit ${r.exitCode}`).split('\n')[0]!, hint: 'install genisoimage (scripts/bootstrap does), or set AHL_GENISOIMAGE' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
