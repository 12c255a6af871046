import { fileURLToPath } from 'node:url';
import { systemStepTag, type Lab } from '@ahl/core';

/**
 * The bundled Ansible content: `site.yml`, `roles/`, and the `ahl_ndjson` stdout callback in
 * `callback_plugins/`. The folder ships beside `dist/` in the package, so the same relative URL
 * resolves from the built bundle and from the sources under test.
 */
export const ANSIBLE_DIR: string = fileURLToPath(new URL('../ansible/', import.meta.url));

/** Tags of the playbook's roles, in the order they run, for `--tags`; each role can run alone. */
export const SYSTEM_TAGS = ['base', 'sysctl', 'swap', 'mounts', 'nics', 'container_engine', 'users', 'sshd', 'firewall', 'files', 'unattended_upgrades', 'monitoring', 'services'] as const;
export type SystemTag = (typeof SYSTEM_TAGS)[number];

/** The folders of `ANSIBLE_DIR/roles`: a lab role never runs under one of these names. */
export const BUNDLED_ROLES = ['base', 'container_engine', 'files', 'firewall', 'mounts', 'nics', 'node_exporter', 'services', 'sshd', 'swap', 'sysctl', 'unattended_upgrades', 'users'] as const;

/**
 * Every tag `converge system --tags` takes for this lab: the bundled roles' (in their order), then
 * the tags of the lab's own roles and task files (system.roles), sorted. Pure.
 */
export function systemTags(lab: Lab): string[] {
  const own = new Set(lab.hosts.flatMap((h) => (h.kind === 'vm' ? (h.system?.roles ?? []).map(systemStepTag) : [])));
  return [...SYSTEM_TAGS, ...[...own].sort()];
}
