import type { ImageRecipe } from './recipe.js';

/** One step of the image build: a command (argv built here, purely) or files written into the chroot. */
export type BuildStep =
  | {
      readonly name: string;
      readonly argv: readonly string[];
      readonly env?: Readonly<Record<string, string>>;
      /** Text written to the command's stdin. */
      readonly input?: string;
    }
  | { readonly name: string; readonly files: Readonly<Record<string, { readonly text: string; readonly mode: number }>> };

export interface BuildPaths {
  /** The chroot folder. */
  readonly root: string;
  readonly rawDisk: string;
  readonly rawPart: string;
  readonly qcow2: string;
}

const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };

/** Files written into the chroot after debootstrap, path → text (executables end in .d or live in sbin). */
function guestFiles(recipe: ImageRecipe): Record<string, { text: string; mode: number }> {
  const files: Record<string, string> = {
    '/etc/fstab': `LABEL=${recipe.rootLabel} / ext4 defaults,discard,errors=remount-ro 0 1\n`,
    '/etc/hostname': 'localhost\n',
    '/etc/hosts': '127.0.0.1 localhost\n',
    // Proxmox hands guests a NoCloud (cidata) or ConfigDrive seed; nothing else is tried, so boot never waits on a network datasource.
    '/etc/cloud/cloud.cfg.d/90-ahl-datasources.cfg': 'datasource_list: [NoCloud, ConfigDrive, None]\n',
    '/etc/locale.gen': 'en_US.UTF-8 UTF-8\nC.UTF-8 UTF-8\n',
    '/etc/default/locale': 'LANG=C.UTF-8\n',
    // Services must not start inside the chroot while packages install.
    '/usr/sbin/policy-rc.d': '#!/bin/sh\nexit 101\n',
  };
  // cloud-init's 50-cloud-init declares lo (with the nameservers) and the NICs; a second lo stanza here would shadow its dns-nameservers.
  // (Ubuntu's image has netplan instead: cloud-init renders /etc/netplan/50-cloud-init.yaml.)
  if (recipe.distro === 'debian') files['/etc/network/interfaces'] = 'source /etc/network/interfaces.d/*\n';
  // Ubuntu's cloud-init rewrites apt's sources at first boot from its own default mirrors; the image keeps the mirror it was built from.
  if (recipe.distro === 'ubuntu') files['/etc/cloud/cloud.cfg.d/90-ahl-apt.cfg'] = 'apt:\n  preserve_sources_list: true\n';
  return Object.fromEntries(Object.entries(files).map(([path, text]) => [path, { text, mode: path.includes('/sbin/') ? 0o755 : 0o644 }]));
}

/**
 * How the distribution differs in the build: debootstrap's script and keyring (noble is built by
 * the `gutsy` script, which every Ubuntu release since uses), the services its cloud image runs,
 * and where its resolv.conf points.
 */
function flavour(recipe: ImageRecipe, keyring: string | undefined) {
  if (recipe.distro === 'ubuntu')
    return {
      debootstrapExtra: [...(keyring ? [`--keyring=${keyring}`] : [])],
      script: ['/usr/share/debootstrap/scripts/gutsy'],
      // ssh comes by socket activation on Ubuntu 24.04, as on its cloud image.
      services: ['ssh.socket', 'systemd-networkd.service', 'systemd-resolved.service'],
      // systemd-resolved's stub, which netplan feeds with the nameservers cloud-init renders.
      resolver: (root: string) => `ln -sfn ../run/systemd/resolve/stub-resolv.conf ${root}/etc/resolv.conf`,
    };
  return {
    debootstrapExtra: [...(keyring ? [`--keyring=${keyring}`] : [])],
    script: [] as string[],
    services: ['ssh.service'],
    // The guest's resolv.conf comes from resolvconf alone (cloud-init's nameservers).
    resolver: (root: string) => `rm -rf ${root}/run/resolvconf ${root}/etc/resolvconf/resolv.conf.d/original && ln -sfn ../run/resolvconf/resolv.conf ${root}/etc/resolv.conf`,
  };
}

/**
 * The build as a list of commands, from an empty folder to a qcow2 disk, fetching from `mirror` (a
 * URL of the recipe's distribution's archive), checked with `keyring` when given (else debootstrap's
 * default, Debian's own). Pure.
 */
export function buildSteps(recipe: ImageRecipe, p: BuildPaths, mirror: string, keyring?: string): BuildStep[] {
  const chroot = (...argv: string[]): readonly string[] => ['chroot', p.root, ...argv];
  const partMiB = recipe.diskMiB - 1;
  const f = flavour(recipe, keyring);
  const components = recipe.components.join(' ');
  return [
    {
      name: 'debootstrap',
      argv: ['debootstrap', '--variant=minbase', `--include=${recipe.bootstrap.join(',')}`, `--components=${recipe.components.join(',')}`, ...f.debootstrapExtra, recipe.suite, p.root, mirror, ...f.script],
      env: APT_ENV,
    },
    { name: 'guest files', files: Object.fromEntries(Object.entries(guestFiles(recipe)).map(([path, file]) => [`${p.root}${path}`, file])) },
    { name: 'mount /proc', argv: ['mount', '-t', 'proc', 'proc', `${p.root}/proc`] },
    { name: 'mount /dev', argv: ['mount', '--bind', '/dev', `${p.root}/dev`] },
    { name: 'apt sources', files: { [`${p.root}/etc/apt/sources.list`]: { text: `deb ${mirror} ${recipe.suite} ${components}\ndeb ${mirror} ${recipe.suite}-updates ${components}\n`, mode: 0o644 } } },
    { name: 'apt update', argv: chroot('apt-get', 'update', '-qq'), env: APT_ENV },
    { name: 'apt install', argv: chroot('apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...recipe.packages), env: APT_ENV },
    { name: 'locales', argv: chroot('locale-gen'), env: APT_ENV },
    { name: 'disable services', argv: chroot('systemctl', 'disable', ...recipe.disabledServices) },
    { name: 'enable guest services', argv: chroot('systemctl', 'enable', ...f.services, 'cloud-init.service', 'cloud-config.service', 'cloud-final.service', 'cloud-init-local.service') },
    // Each clone must get its own host keys and machine id on first boot.
    { name: 'forget host identity', argv: ['sh', '-c', `rm -f ${p.root}/etc/ssh/ssh_host_* && : > ${p.root}/etc/machine-id && rm -f ${p.root}/var/lib/dbus/machine-id`] },
    // debootstrap copied the build host's resolv.conf: the guest's comes from its own resolver.
    { name: 'forget host resolver', argv: ['sh', '-c', f.resolver(p.root)] },
    { name: 'apt clean', argv: chroot('apt-get', 'clean') },
    { name: 'allow services again', argv: ['rm', '-f', `${p.root}/usr/sbin/policy-rc.d`] },
    { name: 'unmount /dev', argv: ['umount', `${p.root}/dev`] },
    { name: 'unmount /proc', argv: ['umount', `${p.root}/proc`] },
    // A partitioned disk without loop devices: the filesystem is made in its own file, then laid into the disk at 1 MiB.
    { name: 'raw disk', argv: ['truncate', '-s', `${recipe.diskMiB}M`, p.rawDisk] },
    { name: 'partition', argv: ['sfdisk', '--quiet', p.rawDisk], input: 'label: dos\nstart=2048, type=83, bootable\n' },
    { name: 'filesystem', argv: ['mkfs.ext4', '-q', '-L', recipe.rootLabel, '-d', p.root, '-E', 'root_owner=0:0', p.rawPart, `${partMiB}M`] },
    { name: 'lay filesystem into disk', argv: ['dd', `if=${p.rawPart}`, `of=${p.rawDisk}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none'] },
    { name: 'qcow2', argv: ['qemu-img', 'convert', '-O', 'qcow2', p.rawDisk, p.qcow2] },
  ];
}
