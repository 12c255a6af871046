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
  /** Whose archive it is built from: its mirror, keyring and debootstrap script follow. */
  readonly distro: 'debian' | 'ubuntu';
  readonly suite: string;
  /** The archive's components the image installs from (and its apt sources name). */
  readonly components: readonly string[];
  /**
   * The root filesystem's label: fstab and the kernel command line mount it, and the local lab
   * knows by it which image's kernel boots a disk (a clone carries its template's label).
   */
  readonly rootLabel: string;
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

export const DEBIAN_RECIPE: ImageRecipe = {
  distro: 'debian',
  suite: 'bookworm',
  components: ['main'],
  rootLabel: 'ahlroot',
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

/** The Debian image: what every guest boots unless its template is another distribution's. */
export const DEFAULT_RECIPE = DEBIAN_RECIPE;

/**
 * Ubuntu 24.04 (noble), shaped like Ubuntu's own cloud image where a guest can tell: netplan with
 * systemd-networkd and systemd-resolved (cloud-init renders netplan), the virtual kernel, ssh by
 * socket activation. The same tools are baked in as on Debian (docker.io and node_exporter are in
 * universe).
 */
export const UBUNTU_RECIPE: ImageRecipe = {
  distro: 'ubuntu',
  suite: 'noble',
  components: ['main', 'universe'],
  rootLabel: 'ahlroot-noble',
  bootstrap: ['systemd-sysv', 'udev', 'apt', 'ca-certificates', 'gnupg'],
  packages: [
    'linux-image-virtual',
    'initramfs-tools',
    'openssh-server',
    'python3',
    'python3-apt',
    'sudo',
    'cloud-init',
    'cloud-guest-utils',
    'e2fsprogs',
    'netplan.io',
    'systemd-resolved',
    'iproute2',
    'iputils-ping',
    'netbase',
    'dbus',
    'locales',
    'qemu-guest-agent',
    'rsync',
    'curl',
    'prometheus-node-exporter',
    'unattended-upgrades',
    'docker.io',
    'docker-compose-v2',
    // Docker confines containers with AppArmor on Ubuntu's kernel; Ubuntu's cloud image has it too.
    'apparmor',
    'busybox-static',
  ],
  disabledServices: ['docker.service', 'docker.socket', 'containerd.service', 'prometheus-node-exporter.service'],
  diskMiB: 3072,
  // 2: cloud-init keeps the image's apt sources.
  builderVersion: 2,
};

/** The recipe of an image for a distribution, or undefined for one the local lab cannot build. */
export function recipeFor(family: string): ImageRecipe | undefined {
  return family === 'ubuntu' ? UBUNTU_RECIPE : family === 'debian' ? DEBIAN_RECIPE : undefined;
}

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
