import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadLab, RESERVED_SYSTEM_TAGS, systemStepTag, validateLab } from '../src/index.js';
import { FIXTURES } from './corpus.js';

/*
 * A persona's system section beyond packages and users (issue #25 items 3 and 4): the lab's own roles
 * and task files, sysctl, the host firewall, swap and mounts. Checked in memory through validateLab,
 * so every error is asserted as the operator reads it (file:line:col field: message).
 */

const LAB = 'name: mem\nproxmox:\n  endpoint: https://pve:8006\n  tokenId: a@pve!t\n  tokenSecret: env:X\nnodes:\n  n1: {}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAA]\n';
const IMAGE = 'os: {family: debian, release: bookworm}\nsource:\n  url: https://x/deb.qcow2\n  checksumUrl: https://x/SHA512SUMS\n';

/** The persona file with this system section (indented by two spaces already). */
function check(system: string) {
  const r = validateLab({
    root: '/lab',
    stacks: {},
    files: [
      { path: 'lab.yaml', text: LAB },
      { path: 'images/deb.yaml', text: IMAGE },
      { path: 'personas/box.yaml', text: `template: deb@stable\nsystem:\n${system}hosts:\n  box-1: {node: n1, vmid: 101, ip: 10.0.0.1/24, gateway: 10.0.0.254}\n` },
    ],
  });
  return { lab: r.lab, errors: r.errors.map(formatDiagnostic) };
}

describe('system.roles: the lab\'s own roles and task files', () => {
  it('takes roles by folder or by name, task files, tags and vars of any JSON shape', () => {
    const { lab, errors } = check(
      [
        '  requirements: requirements.yml',
        '  roles:',
        '    - role: roles/motd',
        '      vars: {motd_text: "hi {{ x }}", motd_lines: [1, two, {three: null}], motd_on: true}',
        '    - {tasks: tasks/dotfiles.yml, vars: {dotfiles_user: lab}}',
        '    - {role: geerlingguy.swap, tag: galaxy_swap}',
        '    - {role: ./vendor/other-role/}',
        '',
      ].join('\n'),
    );
    expect(errors).toEqual([]);
    const roles = lab!.personas.box!.system!.roles;
    expect(roles.map(systemStepTag)).toEqual(['motd', 'dotfiles', 'galaxy_swap', 'other-role']);
    expect(roles[0]!.vars).toEqual({ motd_text: 'hi {{ x }}', motd_lines: [1, 'two', { three: null }], motd_on: true });
    expect(roles[2]!.vars).toEqual({});
  });

  it('refuses paths out of the repository, bad tags, reserved and clashing names, each at its line', () => {
    const { errors } = check(
      [
        '  roles:',
        '    - role: ../outside/role',
        '    - {tasks: /etc/tasks.yml}',
        '    - {tasks: tasks/notes.txt}',
        '    - {role: roles/motd, tasks: tasks/x.yml}',
        '    - {vars: {a: 1}}',
        '    - {role: roles/users}',
        '    - {role: roles/motd}',
        '    - {role: roles/motd, tag: motd2, vars: {ahl_x: 1, ansible_host: h, hostvars: 1, 9lives: 1, ok_name: 1}}',
        '    - {role: geerlingguy.swap}',
        '    - {tasks: tasks/a.yml, vars: {ok_name: 2, "odd{{key}}": {"{{": 1}, nul: "a\\0b"}}',
        '    - {role: "roles/bad name"}',
        '    - {role: roles/motd, tag: "no,comma"}',
        '    - {role: roles/motd@2}',
        '    - {tasks: tasks/motd.yml}',
        '',
      ].join('\n'),
    );
    expect(errors).toEqual([
      'personas/box.yaml:4:13 system.roles[0].role: must be a role folder in the lab repository (a path with "/", like roles/motd) or the name of a role system.requirements installs (like geerlingguy.swap)',
      'personas/box.yaml:5:15 system.roles[1].tasks: must be a path inside the lab repository, relative to its root, like roles/motd (letters, digits, "_", ".", "@", "+" and "-"; no . or .. segments)',
      'personas/box.yaml:6:15 system.roles[2].tasks: must be a YAML task file (.yml or .yaml)',
      'personas/box.yaml:7:14 system.roles[3].role: give exactly one of role or tasks',
      'personas/box.yaml:8:7 system.roles[4].role: give exactly one of role or tasks',
      'personas/box.yaml:9:14 system.roles[5].role: gives the tag "users", which ahl\'s own roles or Ansible use; give another tag',
      'personas/box.yaml:11:52 system.roles[7].vars.ahl_x: is a name ahl or Ansible keeps for itself (ahl_…, ansible_…, play keywords, magic variables); choose another',
      'personas/box.yaml:11:69 system.roles[7].vars.ansible_host: is a name ahl or Ansible keeps for itself (ahl_…, ansible_…, play keywords, magic variables); choose another',
      'personas/box.yaml:11:82 system.roles[7].vars.hostvars: is a name ahl or Ansible keeps for itself (ahl_…, ansible_…, play keywords, magic variables); choose another',
      'personas/box.yaml:11:93 system.roles[7].vars.9lives: must be a variable name: letters, digits and "_", not starting with a digit',
      'personas/box.yaml:12:14 system.roles[8].role: names a role by name, which system.requirements must install; give requirements, or a folder path like roles/NAME',
      'personas/box.yaml:13:44 system.roles[9].vars.ok_name: differs from roles[7].vars.ok_name: the lab\'s role variables are host variables, one value per name',
      'personas/box.yaml:13:61 system.roles[9].vars["odd{{key}}"]: must be a variable name: letters, digits and "_", not starting with a digit',
      'personas/box.yaml:13:68 system.roles[9].vars["odd{{key}}"]["{{"]: must be a key without control characters, "{" or "}"',
      // The YAML layer names the control character itself, in place of the schema's own message.
      'personas/box.yaml:13:77 system.roles[9].vars.nul: the value holds the control character U+0000 (NUL); lab files hold printable text only (tabs and line breaks are fine)',
      'personas/box.yaml:14:14 system.roles[10].role: must be a role folder in the lab repository (a path with "/", like roles/motd) or the name of a role system.requirements installs (like geerlingguy.swap)',
      'personas/box.yaml:15:31 system.roles[11].tag: must be a tag: letters, digits, "_", "." and "-", starting with a letter or digit',
      'personas/box.yaml:16:14 system.roles[12].role: gives the tag "motd@2", which is not one: give tag (letters, digits, "_", "." and "-")',
      'personas/box.yaml:17:15 system.roles[13].tasks: gives the tag "motd", as roles[6] does; give another tag',
    ]);
  });

  it('reserves every Ansible special tag', () => {
    expect(RESERVED_SYSTEM_TAGS).toEqual(expect.arrayContaining(['all', 'always', 'never', 'tagged', 'untagged']));
  });
});

describe('sysctl, firewall, swap and mounts', () => {
  it('takes valid settings with their defaults', () => {
    const { lab, errors } = check(
      [
        '  sysctl: {net.ipv4.ip_forward: 1, vm.swappiness: 10, net.ipv4.tcp_rmem: "4096 87380 6291456", net/ipv4/conf/eth0.1/rp_filter: 0}',
        '  firewall:',
        '    allow: [{port: 8080}, {port: "60000-61000", proto: udp}, {port: 9100, from: 10.0.0.0/24}, {port: 53, from: 10.0.0.5, proto: udp}]',
        '  swap: {size: 1G}',
        '  mounts:',
        '    - {label: media, path: /srv/media, fs: ext4}',
        '    - {label: backup_2, path: /mnt/backup, fs: xfs, options: [noatime, nofail, x-systemd.device-timeout=10s]}',
        '',
      ].join('\n'),
    );
    expect(errors).toEqual([]);
    const s = lab!.personas.box!.system!;
    expect(s.sysctl).toEqual({ 'net.ipv4.ip_forward': 1, 'vm.swappiness': 10, 'net.ipv4.tcp_rmem': '4096 87380 6291456', 'net/ipv4/conf/eth0.1/rp_filter': 0 });
    expect(s.firewall).toEqual({
      enabled: true,
      icmp: true,
      allow: [
        { port: 8080, proto: 'tcp' },
        { port: '60000-61000', proto: 'udp' },
        { port: 9100, proto: 'tcp', from: '10.0.0.0/24' },
        { port: 53, proto: 'udp', from: '10.0.0.5' },
      ],
    });
    expect(s.swap).toEqual({ enabled: true, size: '1G' });
    expect(s.mounts).toEqual([
      { label: 'media', path: '/srv/media', fs: 'ext4', options: ['defaults', 'nofail'] },
      { label: 'backup_2', path: '/mnt/backup', fs: 'xfs', options: ['noatime', 'nofail', 'x-systemd.device-timeout=10s'] },
    ]);
    expect(check('  swap: {enabled: false}\n  firewall: {enabled: false}\n').errors).toEqual([]);
    expect(check('  packages: [curl]\n').lab!.personas.box!.system).toMatchObject({ sysctl: {}, mounts: [], roles: [] });
  });

  it('refuses what would become a line of a unit, a rule or an fstab entry, each at its line', () => {
    const { errors } = check(
      [
        '  sysctl: {"net.ipv4.ip_forward\\nkernel.x": 1, "kernel.core_pattern": "|/bin/sh -c x", vm.x: 1.5, Net.x: 1, net: 1}',
        '  firewall:',
        '    allow: [{port: 0}, {port: "22; drop"}, {port: "90-80"}, {port: 80, from: "0.0.0.0/0 accept"}, {port: 80, proto: icmp}, {port: 70000}]',
        '    policy: accept',
        '  swap: {size: 1T}',
        '  mounts:',
        '    - {label: "has space", path: /srv/a, fs: ext4}',
        '    - {label: b, path: "/srv/b c", fs: ext4}',
        '    - {label: c, path: /etc, fs: ext4}',
        '    - {label: d, path: /proc/x, fs: ext4}',
        '    - {label: e, path: /srv/../etc, fs: ext4}',
        '    - {label: f, path: /srv/f, fs: nfs}',
        '    - {label: g, path: /srv/g, fs: ext4, options: ["defaults,exec", "x y", ""]}',
        '',
      ].join('\n'),
    );
    expect(errors).toEqual([
      'personas/box.yaml:3:12 system.sysctl["net.ipv4.ip_forward\\nkernel.x"]: invalid name: must be a sysctl key like net.ipv4.ip_forward or vm.swappiness',
      'personas/box.yaml:3:71 system.sysctl["kernel.core_pattern"]: must be a whole number or words of letters, digits and "._:,+/-" separated by single spaces, like "4096 87380 6291456"',
      'personas/box.yaml:3:94 system.sysctl["vm.x"]: must be a whole number or words of letters, digits and "._:,+/-" separated by single spaces, like "4096 87380 6291456"',
      'personas/box.yaml:3:99 system.sysctl["Net.x"]: invalid name: must be a sysctl key like net.ipv4.ip_forward or vm.swappiness',
      'personas/box.yaml:3:109 system.sysctl.net: invalid name: must be a sysctl key like net.ipv4.ip_forward or vm.swappiness',
      'personas/box.yaml:5:20 system.firewall.allow[0].port: must be a port from 1 to 65535, or a range "FIRST-LAST" of them',
      'personas/box.yaml:5:31 system.firewall.allow[1].port: must be a port from 1 to 65535, or a range "FIRST-LAST" of them',
      'personas/box.yaml:5:51 system.firewall.allow[2].port: must be a port from 1 to 65535, or a range "FIRST-LAST" of them',
      'personas/box.yaml:5:78 system.firewall.allow[3].from: must be an IPv4 address or network, like 192.168.1.0/24',
      'personas/box.yaml:5:117 system.firewall.allow[4].proto: must be one of "tcp", "udp"; did you mean "tcp"?',
      'personas/box.yaml:5:131 system.firewall.allow[5].port: must be a port from 1 to 65535, or a range "FIRST-LAST" of them',
      'personas/box.yaml:6:5 system.firewall.policy: unknown key (expected one of: enabled, allow, icmp)',
      'personas/box.yaml:7:16 system.swap.size: must be a size like 512M or 2G',
      'personas/box.yaml:9:15 system.mounts[0].label: must be a filesystem label: letters, digits, "_", "." and "-" (no spaces)',
      'personas/box.yaml:10:24 system.mounts[1].path: must be an absolute path of letters, digits, "_", ".", "@", "+" and "-", without . or .. segments',
      'personas/box.yaml:11:24 system.mounts[2].path: must not be a system folder (/, /etc, /usr, /var, …) nor lie under /proc, /sys, /dev, /run or /boot',
      'personas/box.yaml:12:24 system.mounts[3].path: must not be a system folder (/, /etc, /usr, /var, …) nor lie under /proc, /sys, /dev, /run or /boot',
      'personas/box.yaml:13:24 system.mounts[4].path: must be an absolute path of letters, digits, "_", ".", "@", "+" and "-", without . or .. segments',
      'personas/box.yaml:14:36 system.mounts[5].fs: must be one of "ext4", "ext3", "ext2", "xfs", "btrfs", "f2fs", "vfat", "exfat", "ntfs3"; did you mean "xfs"?',
      'personas/box.yaml:15:52 system.mounts[6].options[0]: must be one mount option like noatime or uid=1000 (no commas, spaces or quotes)',
      'personas/box.yaml:15:69 system.mounts[6].options[1]: must be one mount option like noatime or uid=1000 (no commas, spaces or quotes)',
      'personas/box.yaml:15:76 system.mounts[6].options[2]: must be one mount option like noatime or uid=1000 (no commas, spaces or quotes)',
    ]);
  });

  it('swap: a size is needed unless it is turned off', () => {
    expect(check('  swap: {}\n').errors).toEqual(['personas/box.yaml:3:9 system.swap.size: is required when swap is enabled']);
  });

  it('mounts: one disk per label, one disk per folder', () => {
    expect(check('  mounts:\n    - {label: a, path: /srv/a, fs: ext4}\n    - {label: b, path: /srv/a, fs: ext4}\n    - {label: a, path: /srv/c, fs: ext4}\n').errors).toEqual([
      'personas/box.yaml:5:24 system.mounts[1].path: is where mounts[0] mounts already',
      'personas/box.yaml:6:15 system.mounts[2].label: is mounted by mounts[0] already',
    ]);
  });
});

describe('the lab\'s roles, task files and requirements are files of the repository', () => {
  /** The base fixture in a fresh folder, its web persona given this system text after its packages. */
  function labWith(system: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-steps-'));
    cpSync(join(FIXTURES, 'base'), dir, { recursive: true });
    const web = join(dir, 'personas/web.yaml');
    writeFileSync(web, readFileSync(web, 'utf8').replace('  packages: [curl]\n', `  packages: [curl]\n${system}`));
    return dir;
  }
  const errors = async (dir: string) => (await loadLab(dir, { cache: false })).errors.map(formatDiagnostic);

  it('accepts a role folder, a task file and a requirements file that exist inside it', async () => {
    const dir = labWith('  requirements: requirements.yml\n  roles:\n    - {role: roles/motd}\n    - {tasks: tasks/t.yml}\n    - {role: geerlingguy.swap}\n');
    mkdirSync(join(dir, 'roles/motd/tasks'), { recursive: true });
    mkdirSync(join(dir, 'tasks'));
    writeFileSync(join(dir, 'roles/motd/tasks/main.yml'), '[]\n');
    writeFileSync(join(dir, 'tasks/t.yml'), '[]\n');
    writeFileSync(join(dir, 'requirements.yml'), 'roles: []\n');
    expect(await errors(dir)).toEqual([]);
  });

  it('refuses one that is missing, of the wrong kind, or a link out of the repository', async () => {
    const dir = labWith('  requirements: requirements.yml\n  roles:\n    - {role: roles/motd}\n    - {tasks: tasks/t.yml}\n    - {role: roles/away}\n');
    mkdirSync(join(dir, 'tasks/t.yml'), { recursive: true });
    mkdirSync(join(dir, 'roles'));
    symlinkSync(tmpdir(), join(dir, 'roles/away'));
    expect(await errors(dir)).toEqual([
      'personas/web.yaml:8:17 system.requirements: "requirements.yml" is not a file in the lab repository',
      'personas/web.yaml:10:14 system.roles[0].role: "roles/motd" is not a folder in the lab repository',
      'personas/web.yaml:11:15 system.roles[1].tasks: "tasks/t.yml" is not a file in the lab repository',
      expect.stringMatching(/^personas\/web\.yaml:12:14 system\.roles\[2\]\.role: "roles\/away" resolves to .*, outside the lab repository/),
    ]);
  });
});
