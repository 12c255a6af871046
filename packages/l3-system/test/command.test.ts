import { describe, expect, it } from 'vitest';
import { ansibleEnv, ansiblePlaybookArgv, commandLine } from '../src/index.js';

const base = { ansiblePlaybook: 'ansible-playbook', contentDir: '/pkg/ansible', inventoryDir: '/tmp/ahl-l3-x', hosts: ['b', 'a'], check: false, forks: 2 };

describe('ansiblePlaybookArgv', () => {
  it.each([
    ['converge', {}, ['ansible-playbook', '--inventory', '/tmp/ahl-l3-x/inventory.yml', '--limit', 'a,b', '--forks', '2', '/pkg/ansible/site.yml']],
    ['check with tags', { check: true, tags: ['users', 'base'] as const }, ['ansible-playbook', '--inventory', '/tmp/ahl-l3-x/inventory.yml', '--limit', 'a,b', '--forks', '2', '--tags', 'base,users', '--check', '--diff', '/pkg/ansible/site.yml']],
    ['waiting for new hosts', { waitHosts: ['b'] }, ['ansible-playbook', '--inventory', '/tmp/ahl-l3-x/inventory.yml', '--limit', 'a,b', '--forks', '2', '--extra-vars', '{"ahl_wait_hosts":["b"]}', '/pkg/ansible/site.yml']],
    ['wrapped in a namespace', { wrap: (a: readonly string[]) => ['ip', 'netns', 'exec', 'ns1', ...a] }, ['ip', 'netns', 'exec', 'ns1', 'ansible-playbook', '--inventory', '/tmp/ahl-l3-x/inventory.yml', '--limit', 'a,b', '--forks', '2', '/pkg/ansible/site.yml']],
  ])('%s', (_, extra, argv) => {
    expect(ansiblePlaybookArgv({ ...base, ...extra })).toEqual(argv);
  });
});

describe('ansibleEnv', () => {
  it('selects the NDJSON callback and the bundled roles, without colour', () => {
    expect(ansibleEnv(base)).toEqual({
      ANSIBLE_CALLBACK_PLUGINS: '/pkg/ansible/callback_plugins',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_PIPELINING: '1',
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_ROLES_PATH: '/pkg/ansible/roles',
      ANSIBLE_SSH_CONTROL_PATH_DIR: '/tmp/ahl-l3-x/cp',
      ANSIBLE_STDOUT_CALLBACK: 'ahl_ndjson',
      ANSIBLE_TIMEOUT: '15',
    });
  });
});

describe('commandLine', () => {
  it('quotes only what needs it', () => {
    expect(commandLine(['ansible-playbook', '--limit', 'a,b', "it's here", 'x y'])).toBe(`ansible-playbook --limit a,b 'it'\\''s here' 'x y'`);
  });
});
