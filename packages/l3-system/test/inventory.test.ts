import { describe, expect, it } from 'vitest';
import { renderInventory, selectHosts, sshCommonArgs } from '../src/index.js';
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
      ahl_apt_proxy: http://10.0.0.5:3142
      ahl_container_engine:
        kind: docker
        source: upstream
      ahl_directories:
        - group: ops
          mode: "0750"
          owner: ops
          path: /srv/data
      ahl_files:
        - content: |
            managed by ahl
          group: root
          mode: "0644"
          owner: root
          path: /etc/motd
        - group: root
          mode: "0600"
          owner: root
          path: /etc/app.conf
          src: <lab>/files/app.conf
      ahl_hostname: devops-01
      ahl_node_exporter:
        enabled: true
        listen: :9100
      ahl_os_family: debian
      ahl_packages:
        - git
        - tree
      ahl_persona: devops
      ahl_remove_undeclared_users: true
      ahl_services:
        - enabled: true
          name: ssh
          state: started
      ahl_sshd:
        allow_users:
          - lab
          - ops
        password_authentication: false
        permit_root_login: false
        port: 22
      ahl_timezone: Europe/London
      ahl_unattended_upgrades: true
      ahl_users:
        - groups:
            - docker
            - sudo
          name: ops
          shell: /bin/bash
          ssh_keys:
            - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR ops@example
          sudo: nopasswd
      --- host_vars/docker-01.yml
      # Rendered by ahl (L3 system) from the lab files; edits here are lost.
      ahl_apt_proxy: null
      ahl_container_engine:
        kind: docker
        source: distro
      ahl_directories: []
      ahl_files: []
      ahl_hostname: docker-01
      ahl_node_exporter:
        enabled: true
        listen: 10.0.0.21:9100
      ahl_os_family: ubuntu
      ahl_packages: []
      ahl_persona: docker
      ahl_remove_undeclared_users: false
      ahl_services: []
      ahl_sshd:
        allow_users: null
        password_authentication: false
        permit_root_login: false
        port: 22
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
            ansible_host: 10.0.0.11
            ansible_user: lab
          devops-02:
            ansible_host: 10.0.0.12
            ansible_user: lab
          docker-01:
            ansible_host: 10.0.0.21
            ansible_user: lab
        vars:
          ansible_python_interpreter: /usr/bin/python3
          ansible_ssh_common_args: -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o ProxyJump=ops@bastion.lab.example:2222
          ansible_ssh_private_key_file: <lab>/keys/id_ed25519
      "
    `);
  });
});
