import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jsonSchemaFiles, loadLab } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('the example lab at the repository root', () => {
  it('validates with no error and no warning', async () => {
    const r = await loadLab(REPO);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.lab?.hosts.map((h) => `${h.persona}/${h.name}`)).toEqual([
      'devops/devops-01',
      'devops/devops-nuc',
      'docker/docker-01',
      'docker/docker-02',
      'docker/docker-03',
      'haos/homeassistant-01',
      'nas/nas-01',
      'openvpn/openvpn-01',
    ]);
  });

  it('resolves a host with persona defaults, host overrides and lab defaults', async () => {
    const { lab } = await loadLab(REPO);
    const host = lab!.hosts.find((h) => h.name === 'docker-03')!;
    expect({ ...host, system: undefined, workloads: undefined }).toEqual({
      name: 'docker-03',
      persona: 'docker',
      runtime: 'vm',
      kind: 'vm',
      node: 'pve1',
      template: { ref: 'ubuntu-noble@stable', image: 'ubuntu-noble', channel: 'stable' },
      ip: { address: '192.168.1.33', prefix: 24, cidr: '192.168.1.33/24' },
      gateway: '192.168.1.1',
      dns: ['192.168.1.1'],
      searchDomain: 'lab.example',
      vmid: 303,
      resources: { cores: 4, sockets: 1, cpuType: 'x86-64-v2-AES', memory: 8192, disk: 128 },
      network: { bridge: 'vmbr0', model: 'virtio', firewall: false },
      disk: { datastore: 'local-lvm', interface: 'scsi0', ssd: true, discard: true },
      passthrough: [],
      disks: [],
      nics: [],
      onBoot: true,
      tags: ['ahl', 'docker', 'media'],
      groups: ['media'],
      system: undefined,
      workloads: undefined,
      backup: { schedule: 'daily', maxAge: '26h', quiesce: true, paths: [], keep: 7 },
    });
    expect(Object.isFrozen(host)).toBe(true);
    expect(Object.isFrozen(host.resources)).toBe(true);
  });

  it('keeps the appliance without cloud-init sections and with its fixed MAC', async () => {
    const { lab } = await loadLab(REPO);
    const ha = lab!.hosts.find((h) => h.name === 'homeassistant-01')!;
    expect(ha.kind).toBe('appliance');
    expect(ha.mac).toBe('02:AD:00:00:01:50');
    expect(ha.system).toBeUndefined();
    expect(ha.workloads).toEqual([]);
  });

  it('gives the nas appliance its pool disks whole, by id, kept out of vzdump', async () => {
    const { lab } = await loadLab(REPO);
    const nas = lab!.hosts.find((h) => h.name === 'nas-01')!;
    expect(nas.kind).toBe('appliance');
    expect(nas.passthrough.map((d) => [d.slot, d.device, d.options.backup])).toEqual([
      ['scsi1', '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA1', false],
      ['scsi2', '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA2', false],
    ]);
  });

  it('has the docker persona of the original lab: three hosts, 4 cores, 8 GiB, 64-128 GiB disks', async () => {
    const { lab } = await loadLab(REPO);
    const docker = lab!.hosts.filter((h) => h.persona === 'docker');
    expect(docker).toHaveLength(3);
    for (const h of docker) {
      expect(h.resources.cores).toBe(4);
      expect(h.resources.memory).toBe(8192);
      expect(h.resources.disk).toBeGreaterThanOrEqual(64);
      expect(h.resources.disk).toBeLessThanOrEqual(128);
      expect(h.template.ref).toBe('ubuntu-noble@stable');
    }
  });
});

describe('JSON Schemas', () => {
  it('committed schemas/ match what the zod schemas generate (run `ahl schema --write` when this fails)', () => {
    for (const [file, text] of Object.entries(jsonSchemaFiles())) {
      expect(readFileSync(join(REPO, 'schemas', file), 'utf8'), file).toBe(text);
    }
  });

  it('every example file names its schema for the YAML language server', () => {
    const files = ['lab.yaml', ...['images', 'personas'].flatMap((d) => readdirSync(join(REPO, d)).filter((f) => f.endsWith('.yaml')).map((f) => `${d}/${f}`))];
    for (const f of files) {
      const kind = f === 'lab.yaml' ? 'lab' : f.startsWith('images/') ? 'image' : 'persona';
      const prefix = f === 'lab.yaml' ? './' : '../';
      expect(readFileSync(join(REPO, f), 'utf8').split('\n')[0], f).toBe(`# yaml-language-server: $schema=${prefix}schemas/${kind}.schema.json`);
    }
  });
});
