import { homedir } from 'node:os';
import { join } from 'node:path';
import { Secrets } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

/** Reads an inventory back as Ansible does: `!unsafe` strings are strings. */
const parse = (text: string) => parseYaml(text, { customTags: [{ tag: '!unsafe', resolve: (s: string) => s }] });
import {
  backupPaths,
  quiescedStacks,
  renderEnvFile,
  renderWorkloadInventory,
  selectWorkloadHosts,
  stackFileList,
  workloadAnsibleEnv,
  workloadHosts,
  workloadPlaybookArgv,
  WORKLOAD_ANSIBLE_DIR,
} from '../src/index.js';
import { fixtureLab } from './helpers.js';

const TOKEN = 'tok-3f9a1c0d7e';
const input = (secrets = new Secrets({ env: { L4_UNIT_TOKEN: TOKEN }, baseDir: '/' })) => ({
  stackFiles: { web: { '.env': 'e0', 'compose.yaml': 'c1', 'httpd.conf': 'h2', 'index.html.j2': 't3' }, db: { 'compose.yaml': 'c4' } },
  resolveSecret: (ref: string, field: string) => secrets.resolve(ref, field),
  reportDir: '/tmp/run/reports',
});

describe('targets', () => {
  it('manages the VM hosts with workloads or a backup policy, and names what a bad target could be', async () => {
    const lab = await fixtureLab();
    expect(workloadHosts(lab).map((h) => h.name)).toEqual(['app-1', 'app-2']);
    expect(selectWorkloadHosts(lab, ['app']).map((h) => h.name)).toEqual(['app-1', 'app-2']);
    expect(selectWorkloadHosts(lab, ['app-2']).map((h) => h.name)).toEqual(['app-2']);
    expect(() => selectWorkloadHosts(lab, ['plain-1'])).toThrow(/has no workloads/);
    expect(() => selectWorkloadHosts(lab, ['nope'])).toThrow(/expected one of: app, app-1, app-2/);
  });
});

describe('renderWorkloadInventory', () => {
  it('renders the hosts, the backup host to delegate to, and the stacks as host_vars', async () => {
    const lab = await fixtureLab();
    const files = renderWorkloadInventory(lab, { ...input(), hosts: selectWorkloadHosts(lab) });
    expect(Object.keys(files)).toEqual(['host_vars/app-1.yml', 'host_vars/app-2.yml', 'inventory.yml']);
    const inv = parse(files['inventory.yml']!);
    expect(inv.all.hosts).toEqual({
      'app-1': { ansible_host: '10.0.0.11', ansible_user: 'lab' },
      'app-2': { ansible_host: '10.0.0.12', ansible_user: 'lab' },
      ahl_backup_target: { ansible_host: '10.0.0.5', ansible_user: 'lab' },
    });
    expect(Object.keys(inv.all.children)).toEqual(['os_debian', 'persona_app']);
    expect(inv.all.vars.ahl_report_dir).toBe('/tmp/run/reports');
    expect(inv.all.vars.ansible_ssh_common_args).toContain('StrictHostKeyChecking=yes');
    const vars = parse(files['host_vars/app-1.yml']!);
    expect(vars.ahl_stacks_root).toBe('/opt/stacks');
    expect(vars.ahl_stacks.map((s: { name: string }) => s.name)).toEqual(['web', 'db']);
    expect(vars.ahl_stacks[0]).toMatchObject({
      name: 'web',
      services: ['web'],
      env: { GREETING: 'hello world', WEB_PORT: '8080' },
      files: [
        { src: 'compose.yaml', dest: 'compose.yaml', template: false, sha256: 'c1' },
        { src: 'httpd.conf', dest: 'httpd.conf', template: false, sha256: 'h2' },
        { src: 'index.html.j2', dest: 'index.html', template: true },
      ],
    });
    expect(vars.ahl_stacks[0].src).toBe(`${lab.root}/stacks/web`);
    expect(vars.ahl_stacks[1].services).toEqual(['backup-agent', 'db']);
    expect(vars.ahl_stack_env).toEqual({ web: `API_TOKEN=${TOKEN}\nGREETING='hello world'\nWEB_PORT=8080\n`, db: '' });
    expect(vars.ahl_backup).toEqual({
      keep: 5,
      paths: ['/srv/db', '/srv/extra', '/srv/web/data'],
      quiesce: ['web'],
      schedule: '*-*-* 02:30:00',
      target: { host: '10.0.0.5', path: '/tank/ahl', port: 22, user: 'backup' },
    });
    expect(vars).toMatchObject({ ahl_stack_filter: null, ahl_remove_approved: false, ahl_restore_snapshot: null, ahl_restore_force: false, ahl_deploy_timeout: 180 });
  });

  it('finds a private key named from the home directory, as L3 and ssh do', async () => {
    const lab = await fixtureLab();
    const home = { ...lab, config: { ...lab.config, ssh: { ...lab.config.ssh, privateKey: '~/.ssh/id_lab' } } };
    const inv = parse(renderWorkloadInventory(home, { ...input(), hosts: selectWorkloadHosts(home) })['inventory.yml']!);
    expect(inv.all.vars.ansible_ssh_private_key_file).toBe(join(homedir(), '.ssh/id_lab'));
  });

  it('lays the env values of a host over those of its persona', async () => {
    const lab = await fixtureLab();
    const files = renderWorkloadInventory(lab, { ...input(), hosts: selectWorkloadHosts(lab) });
    expect(parse(files['host_vars/app-2.yml']!).ahl_stack_env.web).toBe(`API_TOKEN=${TOKEN}\nGREETING='hello world'\nWEB_PORT=8081\n`);
    expect(parse(files['host_vars/app-2.yml']!).ahl_stacks[0].env.WEB_PORT).toBe('8081');
  });

  it('is deterministic and carries the options', async () => {
    const lab = await fixtureLab();
    const hosts = selectWorkloadHosts(lab, ['app-1']);
    const a = renderWorkloadInventory(lab, { ...input(), hosts, stackFilter: ['web'], removeApproved: true, restore: { snapshot: '20261126T031500Z', force: true }, deployTimeoutSec: 60 });
    const b = renderWorkloadInventory(lab, { ...input(), hosts, stackFilter: ['web'], removeApproved: true, restore: { snapshot: '20261126T031500Z', force: true }, deployTimeoutSec: 60 });
    expect(a).toEqual(b);
    expect(parse(a['host_vars/app-1.yml']!)).toMatchObject({ ahl_stack_filter: ['web'], ahl_remove_approved: true, ahl_restore_snapshot: '20261126T031500Z', ahl_restore_force: true, ahl_deploy_timeout: 60 });
  });

  it('fails on a missing secret, naming the reference and field but no value', async () => {
    const lab = await fixtureLab();
    expect(() => renderWorkloadInventory(lab, { ...input(new Secrets({ env: {}, baseDir: '/' })), hosts: selectWorkloadHosts(lab) })).toThrow(/L4_UNIT_TOKEN/);
  });
});

describe('pieces', () => {
  it('quotes .env values that are not plain and refuses what a .env cannot carry, without echoing it', () => {
    expect(renderEnvFile({ B: 'a b', A: 'x=1', C: '$HOME' })).toBe("A=x=1\nB='a b'\nC='$HOME'\n");
    expect(() => renderEnvFile({ K: "it's-secret" })).toThrow(/value of K cannot be written into a Compose .env file/);
    expect(() => renderEnvFile({ K: "it's-secret" })).not.toThrow(/it's-secret/);
  });

  it('lists stack files without hidden ones, templates by their .j2 suffix', () => {
    expect(stackFileList({ 'z.conf.j2': 'z', '.env': 'e', 'compose.yaml': 'c' })).toEqual([
      { src: 'compose.yaml', dest: 'compose.yaml', template: false, sha256: 'c' },
      { src: 'z.conf.j2', dest: 'z.conf', template: true },
    ]);
  });

  it('backs up data marked backup plus the policy paths, quiescing per workload or policy', async () => {
    const lab = await fixtureLab();
    const h = lab.hosts.find((x) => x.name === 'app-1')!;
    expect(backupPaths(h)).toEqual(['/srv/db', '/srv/extra', '/srv/web/data']);
    expect(quiescedStacks(h)).toEqual(['web']);
  });

  it('builds argv and environment for each playbook', () => {
    const argv = workloadPlaybookArgv({ ansiblePlaybook: '/v/ansible-playbook', operation: 'restore', inventoryDir: '/tmp/x', hosts: ['b', 'a'], check: false, forks: 2, wrap: (a) => ['ip', 'netns', 'exec', 'ns', ...a] });
    expect(argv).toEqual(['ip', 'netns', 'exec', 'ns', '/v/ansible-playbook', '--inventory', '/tmp/x/inventory.yml', '--limit', 'a,b', '--forks', '2', `${WORKLOAD_ANSIBLE_DIR}restore.yml`]);
    expect(workloadPlaybookArgv({ ansiblePlaybook: 'ap', operation: 'deploy', inventoryDir: '/i', hosts: ['a'], check: true, forks: 1 })).toContain('--check');
    const env = workloadAnsibleEnv({ inventoryDir: '/tmp/x' });
    expect(env.ANSIBLE_STDOUT_CALLBACK).toBe('ahl_ndjson');
    expect(env.ANSIBLE_CALLBACK_PLUGINS).toMatch(/l3-system\/ansible\/callback_plugins$/);
    expect(env.ANSIBLE_ROLES_PATH).toBe(`${WORKLOAD_ANSIBLE_DIR}roles`);
  });
});
