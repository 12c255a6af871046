import { createHash } from 'node:crypto';

/**
 * What a guest image is made of. The recipe is data: its digest keys the cache, so an image is
 * rebuilt exactly when something here (or the builder's own version) changes.
 *
 * The Debian mirror is not part of it: every mirror serves the same release, so a cached image is
 * kept when the mirror changes. The image records the mirror it was built from (GuestImage.mirror,
 * in its image.json); its apt sources name that one, and the apt proxy lets its guests reach it.
 */
export interface ImageRecipe {
  readonly suite: 'bookworm';
  /** debootstrap --include: enough to chroot and run apt. */
  readonly bootstrap: readonly string[];
  /** Installed with apt inside the chroot (dependencies resolved, no recommends). */
  readonly packages: readonly string[];
  /** Services installed but left disabled, for L3 to enable when a persona asks. */
  readonly disabledServices: readonly string[];
  /** Size of the raw disk, in MiB. One partition from 1 MiB to the end. */
  readonly diskMiB: number;
  /** Bumped when the build steps change in a way the lists above do not show. */
  readonly builderVersion: number;
}

export const DEFAULT_RECIPE: ImageRecipe = {
  suite: 'bookworm',
  bootstrap: ['systemd-sysv', 'udev', 'apt', 'ca-certificates', 'gnupg'],
  packages: [
    'linux-image-cloud-amd64',
    'initramfs-tools',
    'openssh-server',
    'python3',
    'python3-apt',
    'sudo',
    'cloud-init',
    'cloud-guest-utils',
    'e2fsprogs',
    'ifupdown',
    // Makes the nameservers cloud-init renders (dns-nameservers, from the VM's nameserver) the guest's
    // resolv.conf, as they are on a real cloud image, instead of the build host's resolver.
    'resolvconf',
    'iproute2',
    'iputils-ping',
    'netbase',
    // logind (power button → clean shutdown) and timedatectl/hostnamectl (used by Ansible) need D-Bus.
    'dbus',
    'locales',
    'qemu-guest-agent',
    'rsync',
    'curl',
    // Pre-baked for L3 and L4 tests: guests cannot reach a package mirror, and apt in a TCG guest is slow.
    'prometheus-node-exporter',
    'unattended-upgrades',
    'docker.io',
    'docker-compose',
    // L4 tests build their container image inside the guest from a static busybox (no registry is reachable).
    'busybox-static',
  ],
  disabledServices: ['docker.service', 'docker.socket', 'containerd.service', 'prometheus-node-exporter.service'],
  diskMiB: 3072,
  builderVersion: 3,
};

/** Stable JSON: keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** The cache key of a recipe: the first 16 hex digits of its SHA-256. */
export function recipeDigest(recipe: ImageRecipe): string {
  return createHash('sha256').update(canonicalJson(recipe)).digest('hex').slice(0, 16);
}
