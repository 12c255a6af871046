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
function guestFiles(): Record<string, { text: string; mode: number }> {
  const files: Record<string, string> = {
    '/etc/fstab': 'LABEL=ahlroot / ext4 defaults,discard,errors=remount-ro 0 1\n',
    '/etc/hostname': 'localhost\n',
    '/etc/hosts': '127.0.0.1 localhost\n',
    // Proxmox hands guests a NoCloud (cidata) or ConfigDrive seed; nothing else is tried, so boot never waits on a network datasource.
    '/etc/cloud/cloud.cfg.d/90-ahl-datasources.cfg': 'datasource_list: [NoCloud, ConfigDrive, None]\n',
    // cloud-init's 50-cloud-init declares lo (with the nameservers) and the NICs; a second lo stanza here would shadow its dns-nameservers.
    '/etc/network/interfaces': 'source /etc/network/interfaces.d/*\n',
    '/etc/locale.gen': 'en_US.UTF-8 UTF-8\nC.UTF-8 UTF-8\n',
    '/etc/default/locale': 'LANG=C.UTF-8\n',
    // Services must not start inside the chroot while packages install.
    '/usr/sbin/policy-rc.d': '#!/bin/sh\nexit 101\n',
  };
  return Object.fromEntries(Object.entries(files).map(([path, text]) => [path, { text, mode: path.includes('/sbin/') ? 0o755 : 0o644 }]));
}

/** The build as a list of commands, from an empty folder to a qcow2 disk, fetching from the Debian `mirror` (a URL). Pure. */
export function buildSteps(recipe: ImageRecipe, p: BuildPaths, mirror: string): BuildStep[] {
  const chroot = (...argv: string[]): readonly string[] => ['chroot', p.root, ...argv];
  const partMiB = recipe.diskMiB - 1;
  return [
    {
      name: 'debootstrap',
      argv: ['debootstrap', '--variant=minbase', `--include=${recipe.bootstrap.join(',')}`, '--components=main', recipe.suite, p.root, mirror],
      env: APT_ENV,
    },
    { name: 'guest files', files: Object.fromEntries(Object.entries(guestFiles()).map(([path, f]) => [`${p.root}${path}`, f])) },
    { name: 'mount /proc', argv: ['mount', '-t', 'proc', 'proc', `${p.root}/proc`] },
    { name: 'mount /dev', argv: ['mount', '--bind', '/dev', `${p.root}/dev`] },
    { name: 'apt sources', files: { [`${p.root}/etc/apt/sources.list`]: { text: `deb ${mirror} ${recipe.suite} main\ndeb ${mirror} ${recipe.suite}-updates main\n`, mode: 0o644 } } },
    { name: 'apt update', argv: chroot('apt-get', 'update', '-qq'), env: APT_ENV },
    { name: 'apt install', argv: chroot('apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...recipe.packages), env: APT_ENV },
    { name: 'locales', argv: chroot('locale-gen'), env: APT_ENV },
    { name: 'disable services', argv: chroot('systemctl', 'disable', ...recipe.disabledServices) },
    { name: 'enable guest services', argv: chroot('systemctl', 'enable', 'ssh.service', 'cloud-init.service', 'cloud-config.service', 'cloud-final.service', 'cloud-init-local.service') },
    // Each clone must get its own host keys and machine id on first boot.
    { name: 'forget host identity', argv: ['sh', '-c', `rm -f ${p.root}/etc/ssh/ssh_host_* && : > ${p.root}/etc/machine-id && rm -f ${p.root}/var/lib/dbus/machine-id`] },
    // debootstrap copied the build host's resolv.conf: the guest's comes from resolvconf alone (cloud-init's nameservers).
    {
      name: 'forget host resolver',
      argv: ['sh', '-c', `rm -rf ${p.root}/run/resolvconf ${p.root}/etc/resolvconf/resolv.conf.d/original && ln -sfn ../run/resolvconf/resolv.conf ${p.root}/etc/resolv.conf`],
    },
    { name: 'apt clean', argv: chroot('apt-get', 'clean') },
    { name: 'allow services again', argv: ['rm', '-f', `${p.root}/usr/sbin/policy-rc.d`] },
    { name: 'unmount /dev', argv: ['umount', `${p.root}/dev`] },
    { name: 'unmount /proc', argv: ['umount', `${p.root}/proc`] },
    // A partitioned disk without loop devices: the filesystem is made in its own file, then laid into the disk at 1 MiB.
    { name: 'raw disk', argv: ['truncate', '-s', `${recipe.diskMiB}M`, p.rawDisk] },
    { name: 'partition', argv: ['sfdisk', '--quiet', p.rawDisk], input: 'label: dos\nstart=2048, type=83, bootable\n' },
    { name: 'filesystem', argv: ['mkfs.ext4', '-q', '-L', 'ahlroot', '-d', p.root, '-E', 'root_owner=0:0', p.rawPart, `${partMiB}M`] },
    { name: 'lay filesystem into disk', argv: ['dd', `if=${p.rawPart}`, `of=${p.rawDisk}`, 'bs=1M', 'seek=1', 'conv=notrunc,sparse', 'status=none'] },
    { name: 'qcow2', argv: ['qemu-img', 'convert', '-O', 'qcow2', p.rawDisk, p.qcow2] },
  ];
}
