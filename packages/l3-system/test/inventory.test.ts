import { describe, expect, it } from 'vitest';
import { hostVars, renderInventory, selectHosts, sshCommonArgs } from '../src/index.js';
import { fixtureLab } from './helpers.js';

describe('selectHosts', () => {
  it.each([
    [[], ['devops-01', 'devops-02', 'docker-01']],
    [['devops'], ['devops-01', 'devops-02']],
    [['docker-01'], ['docker-01']],
    [['docker-01', 'devops'], ['devops-01', 'devops-02', 'docker-01']],
  ])('%j → %j', async (targets, hosts) => {
    expect(selectHosts(await fixtureLab(), targets).map((h) => h.name)).toEqual(hosts);
  });

  it('refuses unknown names, appliances and personas without a system section, listing what it accepts', async () => {
    const lab = await fixtureLab();
    expect(() => selectHosts(lab, ['nope'])).toThrow('no persona, group or host named "nope"; expected one of: devops, docker, edge, devops-01, devops-02, docker-01');
    expect(() => selectHosts(lab, ['ha-01'])).toThrow('"ha-01" has no L3 system to converge');
    expect(() => selectHosts(lab, ['bare'])).toThrow('"bare" has no L3 system to converge');
  });
});

describe('renderInventory', () => {
  it('connects as the lab says: strict host keys, a jump host, the key from the lab root', async () => {
    const lab = await fixtureLab();
    expect(sshCommonArgs(lab)).toBe('-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o ProxyJump=ops@bastion.lab.example:2222');
    expect(sshCommonArgs(lab, { knownHostsFile: '/tmp/kh' })).toContain('-o UserKnownHostsFile=/tmp/kh');
  });

  it('gives L3 the extra disks to format and mount by their serial, and the extra NICs to check', async () => {
    const lab = await fixtureLab();
    const host = lab.hosts.find((h) => h.name === 'docker-01')!;
    const vars = hostVars(lab, {
      ...host,
      disks: [
        { slot: 'scsi1', size: 10, datastore: 'local-lvm', backup: true, mount: { path: '/srv/data', fs: 'xfs', options: ['noatime'] } },
        { slot: 'scsi2', size: 10, datastore: 'local-lvm', backup: true, mount: { path: '/srv/media', label: 'media', fs: 'ext4', options: ['defaults', 'nofail'] } },
        { slot: 'virtio1', size: 1, datastore: 'local-lvm', backup: false },
      ],
      nics: [
        { bridge: 'vmbr1', model: 'virtio', firewall: false, mac: 'BC:24:11:00:20:31', ip: '10.0.20.31/24' },
        { bridge: 'vmbr2', model: 'virtio', firewall: false, ip: 'dhcp' },
      ],
    });
    expect(vars.ahl_disks).toEqual([
      { fs: 'xfs', label: 'scsi1', path: '/srv/data', serial: 'ahl-scsi1' },
      { fs: 'ext4', label: 'media', path: '/srv/media', serial: 'ahl-scsi2' },
    ]);
    // After the persona's own system.mounts (none here).
    expect(vars.ahl_mounts).toEqual([
      { fs: 'xfs', label: 'scsi1', options: 'noatime', path: '/srv/data' },
      { fs: 'ext4', label: 'media', options: 'defaults,nofail', path: '/srv/media' },
    ]);
    expect(vars.ahl_nics).toEqual([
      { ip: '10.0.20.31/24', mac: 'bc:24:11:00:20:31', net: 'net1' },
      { ip: null, mac: null, net: 'net2' },
    ]);
  });

  it('is deterministic: the same lab renders the same bytes', async () => {
    expect(renderInventory(await fixtureLab())).toEqual(renderInventory(await fixtureLab()));
  });

  it('renders groups per persona and OS, connection vars and host_vars (snapshot)', async () => {
    const lab = await fixtureLab();
    const files = renderInventory(lab);
    expect(Object.keys(files)).toEqual(['host_vars/devops-01.yml', 'host_vars/devops-02.yml', 'host_vars/docker-01.yml', 'inventory.yml']);
    const text = Object.entries(files)
      .filter(([f]) => f !== 'host_vars/devops-02.yml')
      .map(([f, t]) => `--- ${f}\n${t}`)
      .join('')
      .replaceAll(lab.root, '<lab>');
    expect(text).toMatchInlineSnapshot(`
      "--- host_vars/devops-01.yml
      # Rendered by ahl (L3 system) from the lab files; edits here are lost.
      ahl_apt_proxy: !unsafe http://10.0.0.5:3142
      ahl_container_engine:
        kind: !unsafe docker
        source: !unsafe upstream
      ahl_directories:
        - group: !unsafe ops
          mode: !unsafe "0750"
          owner: !unsafe ops
          path: !unsafe /srv/data
      ahl_disks: []
      ahl_files:
        - content: !unsafe |
            managed by ahl
          group: !unsafe root
          mode: !unsafe "0644"
          owner: !unsafe root
          path: !unsafe /etc/motd
        - group: !unsafe root
          mode: !unsafe "0600"
          owner: !unsafe root
          path: !unsafe /etc/app.conf
          src: !unsafe <lab>/files/app.conf
      ahl_firewall:
        allow:
          - from: null
            port: 443
            proto: !unsafe tcp
          - from: null
            port: !unsafe 60000-61000
            proto: !unsafe udp
          - from: !unsafe 10.0.0.0/24
            port: 9100
            proto: !unsafe tcp
        icmp: true
        ssh_ports:
          - 22
      ahl_hostname: !unsafe devops-01
      ahl_mounts:
        - fs: !unsafe ext4
          label: !unsafe media
          options: !unsafe defaults,nofail
          path: !unsafe /srv/media
        - fs: !unsafe xfs
          label: !unsafe backup
          options: !unsafe noatime,nofail
          path: !unsafe /mnt/backup
      ahl_nics: []
      ahl_node_exporter:
        enabled: true
        listen: !unsafe :9100
      ahl_os_family: !unsafe debian
      ahl_packages:
        - !unsafe git
        - !unsafe tree
      ahl_persona: !unsafe devops
      ahl_remove_undeclared_users: true
      ahl_roles:
        - role: !unsafe motd
          tag: !unsafe motd
        - tag: !unsafe hello
          tasks: !unsafe <lab>/tasks/hello.yml
      ahl_services:
        - enabled: true
          name: !unsafe ssh
          state: !unsafe started
      ahl_sshd:
        allow_users:
          - !unsafe lab
          - !unsafe ops
        password_authentication: false
        permit_root_login: false
        port: 22
      ahl_swap:
        enabled: true
        size_mib: 1024
      ahl_sysctl:
        - key: !unsafe net.ipv4.ip_forward
          value: !unsafe "1"
        - key: !unsafe net.ipv4.tcp_rmem
          value: !unsafe 4096 87380 6291456
        - key: !unsafe vm.swappiness
          value: !unsafe "10"
      ahl_timezone: !unsafe Europe/London
      ahl_unattended_upgrades: true
      ahl_users:
        - groups:
            - !unsafe docker
            - !unsafe sudo
          name: !unsafe ops
          shell: !unsafe /bin/bash
          ssh_keys:
            - !unsafe ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR ops@example
          sudo: !unsafe nopasswd
      hello_to: !unsafe ops
      motd_banner: !unsafe "{{ lookup('pipe', 'id') }} managed by ahl"
      motd_extra:
        colour: !unsafe blue
        lines:
          - !unsafe one
          - 2
          - true
          - null
      --- host_vars/docker-01.yml
      # Rendered by ahl (L3 system) from the lab files; edits here are lost.
      ahl_apt_proxy: null
      ahl_container_engine:
        kind: !unsafe docker
        source: !unsafe distro
      ahl_directories: []
      ahl_disks: []
      ahl_files: []
      ahl_firewall:
        allow:
          - from: null
            port: 80
            proto: !unsafe tcp
        icmp: false
        ssh_ports:
          - 22
          - 2222
      ahl_hostname: !unsafe docker-01
      ahl_mounts: []
      ahl_nics: []
      ahl_node_exporter:
        enabled: true
        listen: !unsafe 10.0.0.21:9100
      ahl_os_family: !unsafe ubuntu
      ahl_packages: []
      ahl_persona: !unsafe docker
      ahl_remove_undeclared_users: false
      ahl_roles:
        - role: !unsafe <lab>/vendor/users
          tag: !unsafe local_users
      ahl_services: []
      ahl_sshd:
        allow_users: null
        password_authentication: false
        permit_root_login: false
        port: 2222
      ahl_swap:
        enabled: false
        size_mib: null
      ahl_sysctl: []
      ahl_timezone: null
      ahl_unattended_upgrades: false
      ahl_users: []
      --- inventory.yml
      # Rendered by ahl (L3 system) from the lab files; edits here are lost.
      all:
        children:
          edge:
            hosts:
              devops-02: null
          os_debian:
            hosts:
              devops-01: null
              devops-02: null
          os_ubuntu:
            hosts:
              docker-01: null
          persona_devops:
            hosts:
              devops-01: null
              devops-02: null
          persona_docker:
            hosts:
              docker-01: null
        hosts:
          devops-01:
            ansible_host: !unsafe 10.0.0.11
            ansible_user: !unsafe lab
          devops-02:
            ansible_host: !unsafe 10.0.0.12
            ansible_user: !unsafe lab
          docker-01:
            ansible_host: !unsafe 10.0.0.21
            ansible_user: !unsafe lab
        vars:
          ansible_python_interpreter: !unsafe /usr/bin/python3
          ansible_ssh_common_args: !unsafe -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o ProxyJump=ops@bastion.lab.example:2222
          ansible_ssh_private_key_file: !unsafe <lab>/keys/id_ed25519
      "
    `);
  });
});
