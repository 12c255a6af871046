import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLab, type Host } from '@ahl/core';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import { renderNoCloud, writeSeedIso } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
/** genisoimage and isoinfo, both from Debian's genisoimage package (bash scripts/bootstrap installs it). */
const isoTools = prerequisites(['genisoimage', 'isoinfo'].map((t) => !has(t) && `${t} (apt package genisoimage; bash scripts/bootstrap installs it)`));

describe('NoCloud seed of a bare-metal host', () => {
  it('renders the example lab\'s NUC exactly: user with the lab\'s keys, hostname, static address on its MAC', async () => {
    const lab = (await loadLab(REPO)).lab!;
    const seed = renderNoCloud(lab, lab.hosts.find((h) => h.name === 'devops-nuc')!);
    expect(seed['network-config']).toBe(
      [
        'version: 2',
        'ethernets:',
        '  lan0:',
        '    match:',
        '      macaddress: 1c:69:7a:0a:41:0e',
        '    set-name: lan0',
        '    addresses:',
        '      - 192.168.1.41/24',
        '    routes:',
        '      - to: 0.0.0.0/0',
        '        via: 192.168.1.1',
        '    nameservers:',
        '      addresses:',
        '        - 192.168.1.1',
        '        - 1.1.1.1',
        '',
      ].join('\n'),
    );
    expect(seed['user-data'].split('\n')[0]).toBe('#cloud-config');
    expect(parse(seed['user-data'])).toEqual({
      hostname: 'devops-nuc',
      fqdn: 'devops-nuc',
      manage_etc_hosts: true,
      users: [{ name: 'lab', shell: '/bin/bash', groups: ['sudo'], sudo: 'ALL=(ALL) NOPASSWD:ALL', lock_passwd: true, ssh_authorized_keys: lab.config.cloudInit.sshKeys }],
      ssh_pwauth: false,
      disable_root: true,
      timezone: 'Europe/London',
      package_update: false,
    });
    expect(parse(seed['meta-data'])).toEqual({ 'instance-id': expect.stringMatching(/^ahl-devops-nuc-[0-9a-f]{12}$/), 'local-hostname': 'devops-nuc' });
    // The same lab gives the same bytes; a changed address gives a new instance-id, so cloud-init applies it again.
    const nuc = lab.hosts.find((h) => h.name === 'devops-nuc')!;
    expect(renderNoCloud(lab, nuc)).toEqual(seed);
    const moved: Host = { ...nuc, ip: { address: '192.168.1.42', prefix: 24, cidr: '192.168.1.42/24' } };
    expect(parse(renderNoCloud(lab, moved)['meta-data'])['instance-id']).not.toBe(parse(seed['meta-data'])['instance-id']);
  });

  it('without a MAC or an address: any wired NIC, by DHCP', async () => {
    const lab = (await loadLab(REPO)).lab!;
    const { ip: _ip, gateway: _gw, mac: _mac, ...rest } = lab.hosts.find((h) => h.name === 'devops-nuc')!;
    const net = parse(renderNoCloud(lab, { ...rest, dns: [] })['network-config']);
    expect(net).toEqual({ version: 2, ethernets: { lan0: { match: { name: 'en*' }, dhcp4: true } } });
  });

  isoTools.it('writes an ISO labelled cidata that holds the three documents', async () => {
    const lab = (await loadLab(REPO)).lab!;
    const seed = renderNoCloud(lab, lab.hosts.find((h) => h.name === 'devops-nuc')!);
    const iso = join(mkdtempSync(join(tmpdir(), 'ahl-seed-test-')), 'nuc.iso');
    await writeSeedIso(seed, iso);
    expect(execFileSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' })).toMatch(/^Volume id: cidata$/m);
    for (const [name, text] of Object.entries(seed)) expect(execFileSync('isoinfo', ['-R', '-x', `/${name}`, '-i', iso], { encoding: 'utf8' })).toBe(text);
  });

  it('names the tool when it cannot write the ISO', async () => {
    const lab = (await loadLab(REPO)).lab!;
    const seed = renderNoCloud(lab, lab.hosts.find((h) => h.name === 'devops-nuc')!);
    await expect(writeSeedIso(seed, join(tmpdir(), 'x.iso'), '/nonexistent/genisoimage')).rejects.toThrow(/^\/nonexistent\/genisoimage failed: /);
  });
});
