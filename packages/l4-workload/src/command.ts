import { join } from 'node:path';
import { ANSIBLE_DIR, ansibleEnv, type AnsibleStrategy } from '@ahl/l3-system';
import { PLAYBOOKS, WORKLOAD_ANSIBLE_DIR, type WorkloadOperation } from './content.js';

/** How to invoke ansible-playbook for one L4 operation. */
export interface WorkloadInvocation {
  readonly ansiblePlaybook: string;
  readonly operation: WorkloadOperation;
  /** The folder holding the rendered inventory.yml and host_vars/. */
  readonly inventoryDir: string;
  /** Hosts to run on (`--limit`); never empty. */
  readonly hosts: readonly string[];
  /** `--check --diff` (deploy only): report what would change, change nothing. */
  readonly check: boolean;
  readonly forks: number;
  /** argv prefix, e.g. `ip netns exec NS` for hosts inside a network namespace. */
  readonly wrap?: (argv: readonly string[]) => string[];
  /** The bundled content folder (default WORKLOAD_ANSIBLE_DIR). */
  readonly contentDir?: string;
  /** A JSON file of extra variables (`--extra-vars @FILE`), in the run's private folder. */
  readonly varsFile?: string;
  /** Default: Ansible's own linear strategy. */
  readonly strategy?: AnsibleStrategy;
  /** The ssh executable, when not ssh from PATH. */
  readonly sshExecutable?: string | undefined;
}

/** The argv of one run. Pure. */
export function workloadPlaybookArgv(i: WorkloadInvocation): string[] {
  const argv = [
    i.ansiblePlaybook,
    '--inventory', join(i.inventoryDir, 'inventory.yml'),
    '--limit', [...i.hosts].sort().join(','),
    '--forks', String(i.forks),
    ...(i.check ? ['--check', '--diff'] : []),
    ...(i.varsFile ? ['--extra-vars', `@${i.varsFile}`] : []),
    join(i.contentDir ?? WORKLOAD_ANSIBLE_DIR, PLAYBOOKS[i.operation]),
  ];
  return i.wrap ? i.wrap(argv) : argv;
}

/**
 * The environment: L3's (no colour, pipelining, private control sockets), with this package's roles
 * and L3's `ahl_ndjson` callback, whose event contract L4 reads the same way. Pure.
 */
export function workloadAnsibleEnv(i: Pick<WorkloadInvocation, 'inventoryDir' | 'contentDir' | 'strategy' | 'sshExecutable'>): Record<string, string> {
  const contentDir = i.contentDir ?? WORKLOAD_ANSIBLE_DIR;
  return {
    ...ansibleEnv({ ...i, contentDir }),
    ANSIBLE_CALLBACK_PLUGINS: join(ANSIBLE_DIR, 'callback_plugins'),
    ANSIBLE_ROLES_PATH: join(contentDir, 'roles'),
  };
}
