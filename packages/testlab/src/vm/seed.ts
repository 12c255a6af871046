import { cloudInitMetaData, cloudInitNetworkData, cloudInitUserData, type CloudInitSeed } from '@ahl/pve-sim';

export type { CloudInitSeed };

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

/**
 * The seed Proxmox VE would write for a VM with these cloud-init settings. Built from a qm config
 * and rendered by pve-sim's Cloudinit.pm port, so guests without the simulator get the same seed.
 */
export function guestSeed(s: SeedInput): CloudInitSeed {
  const conf: Record<string, string> = {
    name: s.hostname,
    net0: `virtio=${s.mac.toUpperCase()},bridge=br0`,
    ipconfig0: `ip=${s.ip}${s.gateway ? `,gw=${s.gateway}` : ''}`,
    sshkeys: encodeURIComponent(s.sshKeys.join('\n')),
    ...(s.user ? { ciuser: s.user } : {}),
    ...(s.nameservers?.length ? { nameserver: s.nameservers.join(' ') } : {}),
    ...(s.searchDomain ? { searchdomain: s.searchDomain } : {}),
    ...(s.upgrade === false ? { ciupgrade: '0' } : {}),
  };
  const userData = cloudInitUserData(conf, 0, false);
  const networkConfig = cloudInitNetworkData(conf, { nameservers: [], searchdomains: [] });
  return { userData, networkConfig, metaData: cloudInitMetaData(userData, networkConfig) };
}
