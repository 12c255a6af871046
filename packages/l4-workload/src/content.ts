import { fileURLToPath } from 'node:url';

/**
 * The bundled Ansible content: `site.yml` (deploy + backup install), `backup.yml`, `restore.yml`,
 * `status.yml` and `roles/`. It ships beside `dist/`, so the same relative URL resolves from the
 * built bundle and from the sources under test. Output goes through L3's `ahl_ndjson` callback.
 */
export const WORKLOAD_ANSIBLE_DIR: string = fileURLToPath(new URL('../ansible/', import.meta.url));

/** The playbooks, one per operation. */
export const PLAYBOOKS = { deploy: 'site.yml', backup: 'backup.yml', restore: 'restore.yml', status: 'status.yml' } as const;
export type WorkloadOperation = keyof typeof PLAYBOOKS;

/** The inventory name of the lab's backup host, which the content delegates the trust set-up to. */
export const BACKUP_TARGET_HOST = 'ahl_backup_target';
