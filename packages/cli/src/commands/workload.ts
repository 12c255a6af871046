import type { CommandContext, CommandDef } from '../command.js';

const handlers = () => import('../handlers/workload.js');

export const convergeWorkloadCommand: CommandDef = {
  name: 'converge workload',
  locks: (o) => !o.check,
  summary: 'deploy the Compose stacks of hosts and install their backup timer (L4)',
  description:
    'Syncs each stack of the persona or host named (default: every host with workloads) from stacks/NAME/ to the\n' +
    'workloads root on the host (files ending in .j2 are rendered), writes its .env with env values and resolved\n' +
    'secrets (mode 0600, never shown), runs `docker compose up -d --remove-orphans` (or docker-compose v1, detected on\n' +
    'the host) only for a stack that changed or is not running, and waits for its containers to run and be healthy.\n' +
    'Also installs the backup script, its SSH key (trusted on the backup host) and the systemd timer.\n' +
    'Stacks deployed earlier and no longer declared are listed; --approve removes them (their data stays).\n' +
    '--check reports what would change and changes nothing. Exit 1 when a host failed or --check found changes.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona or a host (default: all)' }],
  options: [
    { name: 'stack', type: 'string', value: 'NAME', description: 'only this stack (comma-separated for several)' },
    { name: 'check', type: 'boolean', description: 'report what would change; change nothing' },
    { name: 'approve', type: 'boolean', description: 'remove deployed stacks that are no longer declared' },
  ],
  examples: [
    { command: 'ahl converge workload docker', description: 'deploy every stack of the docker persona' },
    { command: 'ahl converge workload docker-01 --stack whoami --check', description: 'what would change for one stack on one host' },
    { command: 'ahl converge workload --approve', description: 'deploy everything and remove stacks no longer declared' },
  ],
  run: async (ctx) => (await handlers()).convergeWorkload(ctx),
};

export const backupCommand: CommandDef = {
  name: 'backup',
  locks: (o) => !o.status,
  summary: 'back up a host\'s workload data now, or show how fresh its last backup is (L4)',
  description:
    'Runs the host\'s backup now (the script its systemd timer runs): the data directories marked backup: true are\n' +
    'copied to the lab\'s rsync backup host as a new snapshot, with the stacks the persona quiesces stopped meanwhile.\n' +
    'Each run leaves a record (time, size, digest, snapshot id) on the host and beside the snapshot.\n' +
    '--status only reads the records back and says whether the last good backup is within the persona\'s maxAge.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a host or a persona (default: every host with data to back up)' }],
  options: [{ name: 'status', type: 'boolean', description: 'read the last records back; change nothing (exit 1 when a backup is stale)' }],
  examples: [
    { command: 'ahl backup docker-01', description: 'back up one host now' },
    { command: 'ahl backup --status --json', description: 'when every host was last backed up, as JSON' },
  ],
  run: async (ctx) => (await handlers()).backup(ctx),
};

export const restoreCommand: CommandDef = {
  name: 'restore',
  locks: () => true,
  summary: 'put a host\'s backed-up data back, stacks stopped meanwhile (L4)',
  description:
    'Copies the latest (or --snapshot) backup of the host\'s data directories back from the lab\'s rsync backup host,\n' +
    'with the host\'s stacks stopped, checks the restored files against the snapshot\'s digest, then starts the stacks\n' +
    'that were running. On a rebuilt host, run it before `ahl converge workload` so stacks start on their data.\n' +
    'A data directory that is not empty is never overwritten without --approve (exit 1, nothing changed).',
  positionals: [{ name: 'HOST', description: 'a host (or a persona: each of its hosts)' }],
  options: [
    { name: 'snapshot', type: 'string', value: 'ID', description: 'the snapshot to restore, like 20261126T031500Z (default: the latest)' },
    { name: 'approve', type: 'boolean', description: 'overwrite data directories that are not empty' },
  ],
  examples: [
    { command: 'ahl restore docker-01', description: 'restore the latest backup into empty data directories' },
    { command: 'ahl restore docker-01 --snapshot 20261126T031500Z --approve', description: 'roll the data back to a chosen snapshot' },
  ],
  run: async (ctx) => (await handlers()).restore(ctx),
};
