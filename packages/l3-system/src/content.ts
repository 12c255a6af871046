import { fileURLToPath } from 'node:url';

/**
 * The bundled Ansible content: `site.yml`, `roles/`, and the `ahl_ndjson` stdout callback in
 * `callback_plugins/`. The folder ships beside `dist/` in the package, so the same relative URL
 * resolves from the built bundle and from the sources under test.
 */
export const ANSIBLE_DIR: string = fileURLToPath(new URL('../ansible/', import.meta.url));

/** Tags of the playbook's roles, for `--tags`; each role can run alone. */
export const SYSTEM_TAGS = ['base', 'container_engine', 'users', 'sshd', 'files', 'unattended_upgrades', 'monitoring', 'services'] as const;
export type SystemTag = (typeof SYSTEM_TAGS)[number];
