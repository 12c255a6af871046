import { fileURLToPath } from 'node:url';
import { loadLab, type Lab, type TemplateManifest } from '@ahl/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { diffValues, hostAddress, parseUiLine, renderTerraform, resourceName, summarisePlan, terraformLiteral, type TfPlanJson } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

const manifest = (image: string, vmid: number): TemplateManifest => ({
  image,
  version: '20261101-120000',
  vmid,
  node: 'pve1',
  storage: 'local-lvm',
  templateName: `${image}-20261101-120000`,
  source: {},
  specDigest: 'sha256:00',
  toolVersion: 'test',
  createdAt: '2026-11-01T12:00:00Z',
});

describe('terraformLiteral', () => {
  it.each([
    ['${file("/etc/hostname")}', '$${file("/etc/hostname")}'],
    ['%{ if true }x%{ endif }', '%%{ if true }x%%{ endif }'],
    ['$${already} and %%{literal}', '$$${already} and %%%{literal}'],
    ['plain $ and % and {braces}', 'plain $ and % and {braces}'],
  ])('escapes the template openers of %j', (text, want) => {
    expect(terraformLiteral({ a: [text], [text]: 1, n: 2, b: true, z: null })).toEqual({ a: [want], [want]: 1, n: 2, b: true, z: null });
  });
});

describe('renderTerraform', () => {
  let lab: Lab;
  let templates: Record<string, TemplateManifest>;
  beforeAll(async () => {
    const r = await loadLab(REPO);
    expect(r.errors).toEqual([]);
    lab = r.lab!;
    templates = {};
    let vmid = 9000;
    for (const h of lab.hosts) if (h.runtime === 'vm' && !templates[h.template.ref]) templates[h.template.ref] = manifest(h.template.image, vmid++);
  });

  it('writes lab text as text: a description cannot make Terraform read a file', () => {
    const hostile = { ...lab, hosts: lab.hosts.map((h) => ({ ...h, description: '${file("/etc/shadow")}%{ for x in [1] }${x}%{ endfor }' })) } as Lab;
    const module = JSON.parse(renderTerraform(hostile, templates).files['main.tf.json']!) as { resource: Record<string, Record<string, { description: string }>> };
    const descriptions = Object.values(module.resource.proxmox_virtual_environment_vm!).map((r) => r.description);
    expect(descriptions.length).toBeGreaterThan(0);
    for (const d of descriptions) expect(d).toMatch(/^\$\$\{file\("\/etc\/shadow"\)\}%%\{ for x in \[1\] \}\$\$\{x\}%%\{ endfor \} \(managed by ahl/);
  });

  it('renders the example lab as one root module, exactly', async () => {
    const m = renderTerraform(lab, templates);
    expect(m.unresolved).toEqual([]);
    await expect(m.files['main.tf.json']).toMatchFileSnapshot('__snapshots__/example.main.tf.json');
    // Bare metal has no VM.
    expect(m.hosts.map((h) => h.host)).not.toContain('devops-nuc');
  });

  it('renders extra disks with their serial and extra NICs with their addresses, after the first', () => {
    const host = lab.hosts.find((h) => h.name === 'docker-01')!;
    const more = {
      ...host,
      disks: [
        { slot: 'scsi1', size: 100, datastore: 'tank', backup: true, mount: { path: '/srv/data', fs: 'ext4', options: ['defaults', 'nofail'] } },
        { slot: 'virtio1', size: 2, datastore: 'local-lvm', backup: false },
      ],
      nics: [
        { bridge: 'vmbr1', vlan: 20, model: 'virtio', firewall: false, mac: 'bc:24:11:00:20:31', ip: '10.0.20.31/24' },
        { bridge: 'vmbr2', model: 'e1000', firewall: true, ip: 'dhcp' },
      ],
    };
    const m = JSON.parse(renderTerraform({ ...lab, hosts: [more] } as Lab, templates).files['main.tf.json']!) as {
      resource: Record<string, Record<string, { disk: unknown[]; network_device: unknown[]; initialization: { ip_config: unknown[] } }>>;
    };
    const vm = m.resource.proxmox_virtual_environment_vm!['docker-01']!;
    expect(vm.disk.slice(1)).toEqual([
      { datastore_id: 'tank', interface: 'scsi1', size: 100, serial: 'ahl-scsi1', backup: true, ssd: true, discard: 'on' },
      { datastore_id: 'local-lvm', interface: 'virtio1', size: 2, serial: 'ahl-virtio1', backup: false, discard: 'on' },
    ]);
    expect(vm.network_device.slice(1)).toEqual([
      { bridge: 'vmbr1', model: 'virtio', firewall: false, vlan_id: 20, mac_address: 'BC:24:11:00:20:31' },
      { bridge: 'vmbr2', model: 'e1000', firewall: true },
    ]);
    expect(vm.initialization.ip_config.slice(1)).toEqual([{ ipv4: { address: '10.0.20.31/24' } }, { ipv4: { address: 'dhcp' } }]);
  });

  it('is deterministic, and never holds the token or the endpoint', () => {
    const a = renderTerraform(lab, templates).files['main.tf.json']!;
    expect(renderTerraform(lab, templates).files['main.tf.json']).toBe(a);
    expect(a).not.toContain('tokenSecret');
    expect(a).not.toContain(lab.config.proxmox.endpoint);
  });

  it('leaves out the hosts whose channel names no template, and says so', () => {
    const { 'ubuntu-noble@stable': _gone, ...rest } = templates;
    const m = renderTerraform(lab, rest);
    expect(m.unresolved.map((u) => u.template)).toContain('ubuntu-noble@stable');
    expect(m.files['main.tf.json']).not.toContain('"docker-01"');
  });

  it('imports the VMs it adopts', () => {
    const m = JSON.parse(renderTerraform(lab, templates, { adopt: [{ host: 'docker-01', node: 'pve1', vmid: 301 }] }).files['main.tf.json']!) as { import: unknown };
    expect(m.import).toEqual([{ to: 'proxmox_virtual_environment_vm.docker-01', id: 'pve1/301' }]);
  });

  it('tags each VM with the template it was cloned from: its channel\'s for a new VM, its own for one that exists', () => {
    const tags = (m: ReturnType<typeof renderTerraform>, host: string) => (JSON.parse(m.files['main.tf.json']!) as { resource: Record<string, Record<string, { tags: string[] }>> }).resource.proxmox_virtual_environment_vm![host]!.tags;
    expect(tags(renderTerraform(lab, templates), 'docker-01')).toContain('tpl-ubuntu-noble-20261101-120000');
    const kept = renderTerraform(lab, templates, { existing: [{ host: 'docker-01', node: 'pve1', vmid: 301, tags: ['ahl', 'tpl-ubuntu-noble-20261001-090000'] }] });
    expect(tags(kept, 'docker-01').filter((t) => t.startsWith('tpl-'))).toEqual(['tpl-ubuntu-noble-20261001-090000']);
    // An adopted VM whose origin is unknown claims none.
    const unknown = renderTerraform(lab, templates, { existing: [{ host: 'docker-01', node: 'pve1', vmid: 301, tags: ['ahl'] }] });
    expect(tags(unknown, 'docker-01').filter((t) => t.startsWith('tpl-'))).toEqual([]);
  });

  it('names resources after hosts, prefixing those that start with a digit', () => {
    expect(resourceName('web-01')).toBe('web-01');
    expect(resourceName('1st')).toBe('h_1st');
    expect(hostAddress('1st')).toBe('proxmox_virtual_environment_vm.h_1st');
  });
});

describe('summarisePlan', () => {
  const rc = (name: string, actions: string[], change: Record<string, unknown> = {}) => ({ address: `proxmox_virtual_environment_vm.${name}`, type: 'proxmox_virtual_environment_vm', name, change: { actions, ...change } });
  const plan: TfPlanJson = {
    resource_changes: [
      rc('web-02', ['create'], { after: { name: 'web-02' }, after_unknown: { id: true } }),
      rc('web-01', ['update'], {
        before: { memory: [{ dedicated: 2048 }], timeout_clone: null, ipv4_addresses: [], disk: [{ interface: 'scsi0', size: 8 }, { interface: 'scsi1', size: 2 }, { interface: 'scsi2', size: 9 }] },
        after: { memory: [{ dedicated: 4096 }], timeout_clone: 1800, disk: [{ interface: 'scsi0', size: 8 }, { interface: 'scsi1', size: 4 }, { interface: 'scsi2', size: 5 }, { interface: 'scsi3', size: 1 }] },
        after_unknown: { ipv4_addresses: true },
      }),
      rc('h_3rd', ['delete', 'create'], { before: { node_name: 'pve1' }, after: { node_name: 'pve2' }, replace_paths: [['node_name']] }),
      rc('old', ['delete']),
      rc('ok', ['no-op'], { importing: { id: 'pve1/305' } }),
      { ...rc('x', ['create']), type: 'null_resource' },
    ],
    resource_drift: [rc('web-01', ['update'], { before: { cpu: [{ cores: 2 }] }, after: { cpu: [{ cores: 4 }] } })],
  };

  it('says per host what Terraform will do, why a replacement, and what changed outside', () => {
    const s = summarisePlan(plan, (n) => (n.startsWith('h_') ? n.slice(2) : n));
    expect(s.hosts).toEqual([
      { host: '3rd', address: 'proxmox_virtual_environment_vm.h_3rd', action: 'replace', changes: [{ path: 'node_name', before: 'pve1', after: 'pve2' }], replaceBecause: ['node_name'], drift: [], resizes: [] },
      { host: 'ok', address: 'proxmox_virtual_environment_vm.ok', action: 'no-op', changes: [], replaceBecause: [], drift: [], adopt: 'pve1/305', resizes: [] },
      { host: 'old', address: 'proxmox_virtual_environment_vm.old', action: 'delete', changes: [], replaceBecause: [], drift: [], resizes: [] },
      {
        host: 'web-01',
        address: 'proxmox_virtual_environment_vm.web-01',
        action: 'update',
        // Provider-only settings and the agent's observations are not changes to the VM.
        changes: [
          { path: 'disk.1.size', before: 2, after: 4 },
          { path: 'disk.2.size', before: 9, after: 5 },
          { path: 'disk.3.interface', after: 'scsi3' },
          { path: 'disk.3.size', after: 1 },
          { path: 'memory.0.dedicated', before: 2048, after: 4096 },
        ],
        replaceBecause: [],
        drift: [{ path: 'cpu.0.cores', before: 2, after: 4 }],
        // By slot: scsi1 grows, scsi2 would shrink; scsi3 is new, not a resize.
        resizes: [
          { slot: 'scsi1', from: 2, to: 4 },
          { slot: 'scsi2', from: 9, to: 5 },
        ],
      },
      { host: 'web-02', address: 'proxmox_virtual_environment_vm.web-02', action: 'create', changes: [], replaceBecause: [], drift: [], resizes: [] },
    ]);
    expect(s.counts).toEqual({ create: 1, update: 1, replace: 1, delete: 1, 'no-op': 1 });
    expect(s.changes).toBe(true);
  });

  it('masks sensitive values and shows unknown ones as such', () => {
    expect(diffValues({ a: 'x', b: 's1' }, { a: 'y', b: 's2' }, { c: true }, { b: true }, { b: true })).toEqual([
      { path: 'a', before: 'x', after: 'y' },
      { path: 'b', before: '(sensitive)', after: '(sensitive)' },
      { path: 'c', after: '(known after apply)' },
    ]);
  });
});

describe('parseUiLine', () => {
  it('reads diagnostics and apply progress from the -json stream', () => {
    expect(parseUiLine('{"@level":"error","@message":"Error: boom","type":"diagnostic","diagnostic":{"severity":"error","summary":"boom","detail":"why","address":"proxmox_virtual_environment_vm.a"}}')).toEqual({
      type: 'diagnostic',
      diagnostic: { severity: 'error', summary: 'boom', detail: 'why', address: 'proxmox_virtual_environment_vm.a' },
    });
    expect(parseUiLine('{"@message":"a: Creation complete after 3s","type":"apply_complete","hook":{"resource":{"addr":"proxmox_virtual_environment_vm.a"},"action":"create","elapsed_seconds":3}}')).toEqual({
      type: 'apply_complete',
      address: 'proxmox_virtual_environment_vm.a',
      action: 'create',
      elapsed: 3,
      message: 'a: Creation complete after 3s',
    });
    expect(parseUiLine('not json')).toBeUndefined();
  });
});
