import { join } from 'node:path';
import type { AnsibleStrategy } from './strategy.js';

/** How to invoke ansible-playbook: everything argv and the environment are built from. */
export interface PlaybookInvocation {
  /** The ansible-playbook executable. */
  readonly ansiblePlaybook: string;
  /** The bundled content folder (ANSIBLE_DIR). */
  readonly contentDir: string;
  /** The playbook in contentDir (default: site.yml, the converge). */
  readonly playbook?: string;
  /** The folder holding the rendered inventory.yml and host_vars/. */
  readonly inventoryDir: string;
  /** Hosts to converge (`--limit`); never empty. */
  readonly hosts: readonly string[];
  /** Bundled roles' tags (SYSTEM_TAGS) and the lab's own (see `systemTags`). */
  readonly tags?: readonly string[];
  /** `--check --diff`: report drift, change nothing. */
  readonly check: boolean;
  readonly forks: number;
  /**
   * A prefix for argv, e.g. `ip netns exec NS` when the hosts live in a network namespace. A real
   * lab needs none.
   */
  readonly wrap?: (argv: readonly string[]) => string[];
  /** Hosts just created: the playbook first waits for SSH and their first boot (cloud-init). */
  readonly waitHosts?: readonly string[];
  /** A JSON file of extra variables (`--extra-vars @FILE`), in the run's private folder. */
  readonly varsFile?: string;
  /** Default: Ansible's own linear strategy. */
  readonly strategy?: AnsibleStrategy;
  /** The ssh executable, when not ssh from PATH (the accept-new wrapper of a mitogen run). */
  readonly sshExecutable?: string | undefined;
  /** Roles folders searched after the bundled ones: the lab's roles, Galaxy roles of system.requirements. */
  readonly rolesPaths?: readonly string[];
  /** Collections folders searched before Ansible's defaults: the collections of system.requirements. */
  readonly collectionsPaths?: readonly string[];
}

/** The argv of one ansible-playbook run. Pure. */
export function ansiblePlaybookArgv(i: PlaybookInvocation): string[] {
  const argv = [
    i.ansiblePlaybook,
    '--inventory', join(i.inventoryDir, 'inventory.yml'),
    '--limit', [...i.hosts].sort().join(','),
    '--forks', String(i.forks),
    ...(i.tags?.length ? ['--tags', [...i.tags].sort().join(',')] : []),
    ...(i.check ? ['--check', '--diff'] : []),
    ...(i.waitHosts?.length ? ['--extra-vars', JSON.stringify({ ahl_wait_hosts: [...i.waitHosts].sort() })] : []),
    ...(i.varsFile ? ['--extra-vars', `@${i.varsFile}`] : []),
    join(i.contentDir, i.playbook ?? 'site.yml'),
  ];
  return i.wrap ? i.wrap(argv) : argv;
}

/**
 * The environment ansible-playbook runs with (on top of the caller's): the NDJSON callback, the
 * bundled roles (then the lab's and the Galaxy ones), no colour, pipelining, SSH control sockets in the run's own folder, so masters
 * from another run (or another lab with the same addresses) are never reused, and the strategy
 * (mitogen's plugins when chosen). Pure.
 */
export function ansibleEnv(i: Pick<PlaybookInvocation, 'contentDir' | 'inventoryDir' | 'strategy' | 'sshExecutable' | 'rolesPaths' | 'collectionsPaths'>): Record<string, string> {
  return {
    // Ansible's own defaults stay after the requirements' collections.
    ...(i.collectionsPaths?.length ? { ANSIBLE_COLLECTIONS_PATH: [...i.collectionsPaths, '~/.ansible/collections', '/usr/share/ansible/collections'].join(':') } : {}),
    ...(i.strategy?.name === 'mitogen_linear' ? { ANSIBLE_STRATEGY: 'mitogen_linear', ANSIBLE_STRATEGY_PLUGINS: i.strategy.pluginDir } : {}),
    ...(i.sshExecutable ? { ANSIBLE_SSH_EXECUTABLE: i.sshExecutable } : {}),
    ANSIBLE_CALLBACK_PLUGINS: join(i.contentDir, 'callback_plugins'),
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_PIPELINING: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_ROLES_PATH: [join(i.contentDir, 'roles'), ...(i.rolesPaths ?? [])].join(':'),
    ANSIBLE_SSH_CONTROL_PATH_DIR: join(i.inventoryDir, 'cp'),
    ANSIBLE_STDOUT_CALLBACK: 'ahl_ndjson',
    // mitogen counts its whole bootstrap (SSH, then its Python on the host) in this timeout, which takes
    // longer than 15 s on a busy emulated guest; a host that is down still fails at ssh's ConnectTimeout.
    ANSIBLE_TIMEOUT: i.strategy?.name === 'mitogen_linear' ? '60' : '15',
  };
}

/** The command as one line for messages, each word shell-quoted when needed. */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
