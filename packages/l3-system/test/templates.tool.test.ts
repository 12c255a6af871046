import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ANSIBLE_DIR, ansibleEnv, findAnsiblePlaybook, renderInventory } from '../src/index.js';
import { fixtureLab } from './helpers.js';

/*
 * The files the sysctl, firewall and mounts roles write, rendered by real Ansible (on this machine,
 * connection local, into a temporary folder) from the host_vars ahl renders for the unit-test lab:
 * the exact text a host gets. The guests of converge.tool.test.ts load them for real.
 */
describe('templates of the bundled roles, from rendered host_vars', () => {
  it('renders the kernel settings, the nftables ruleset and the fstab lines exactly', async () => {
    const lab = await fixtureLab();
    const dir = mkdtempSync(join(tmpdir(), 'ahl-l3-templates-'));
    const out = join(dir, 'out');
    mkdirSync(join(dir, 'host_vars'), { recursive: true });
    const files = renderInventory(lab);
    for (const h of ['devops-01', 'docker-01']) writeFileSync(join(dir, `host_vars/${h}.yml`), files[`host_vars/${h}.yml`]!);
    writeFileSync(join(dir, 'inventory.yml'), 'all:\n  vars: {ansible_connection: local, ansible_python_interpreter: "{{ ansible_playbook_python }}"}\n  hosts: {devops-01: null, docker-01: null}\n');
    const template = (role: string, src: string, when = 'true') =>
      `    - {name: ${role}, ansible.builtin.template: {src: "${ANSIBLE_DIR}roles/${role}/templates/${src}", dest: "${out}/{{ inventory_hostname }}/${src}", mode: "0644"}, when: "${when}"}\n`;
    writeFileSync(
      join(dir, 'render.yml'),
      '- hosts: all\n  gather_facts: false\n  tasks:\n' +
        `    - {name: out, ansible.builtin.file: {path: "${out}/{{ inventory_hostname }}", state: directory, mode: "0755"}}\n` +
        template('sysctl', '90-ahl.conf.j2') +
        template('firewall', 'firewall.nft.j2', 'ahl_firewall is not none') +
        template('mounts', 'fstab.j2'),
    );
    const ansiblePlaybook = findAnsiblePlaybook();
    const r = await execa(ansiblePlaybook, ['-i', join(dir, 'inventory.yml'), join(dir, 'render.yml')], {
      reject: false,
      all: true,
      env: { ...ansibleEnv({ contentDir: ANSIBLE_DIR, inventoryDir: dir }), ANSIBLE_STDOUT_CALLBACK: 'default' },
    });
    expect(r.exitCode, r.all).toBe(0);
    const read = (h: string, f: string) => readFileSync(join(out, h, f), 'utf8');
    expect(read('devops-01', '90-ahl.conf.j2')).toBe(
      '# Managed by ahl (L3 system): the persona\'s system.sysctl. Changes here are overwritten.\nnet.ipv4.ip_forward = 1\nnet.ipv4.tcp_rmem = 4096 87380 6291456\nvm.swappiness = 10\n',
    );
    expect(read('devops-01', 'firewall.nft.j2')).toBe(
      [
        '#!/usr/sbin/nft -f',
        '# Managed by ahl (L3 system): the persona\'s system.firewall. Changes here are overwritten.',
        '# Only ahl\'s own table is replaced; tables others keep (Docker\'s) are left alone.',
        'table inet ahl',
        'delete table inet ahl',
        'table inet ahl {',
        '\tchain input {',
        '\t\ttype filter hook input priority filter; policy drop;',
        '\t\tct state established,related accept',
        '\t\tct state invalid drop',
        '\t\tiif "lo" accept',
        '\t\tmeta l4proto ipv6-icmp accept',
        '\t\tmeta l4proto icmp accept',
        '\t\tudp sport 67 udp dport 68 accept',
        '\t\ttcp dport { 22 } accept',
        '\t\ttcp dport 443 accept',
        '\t\tudp dport 60000-61000 accept',
        '\t\tip saddr 10.0.0.0/24 tcp dport 9100 accept',
        '\t}',
        '}',
        '',
      ].join('\n'),
    );
    expect(read('docker-01', 'firewall.nft.j2')).toContain('\t\tmeta l4proto ipv6-icmp accept\n\t\tudp sport 67 udp dport 68 accept\n\t\ttcp dport { 22, 2222 } accept\n\t\ttcp dport 80 accept\n\t}\n');
    expect(read('devops-01', 'fstab.j2')).toBe('LABEL=media /srv/media ext4 defaults,nofail 0 2\nLABEL=backup /mnt/backup xfs noatime,nofail 0 2\n');
  }, 120_000);
});
