import type { CommandDef } from '../command.js';

const handlers = () => import('../handlers/rebuild.js');

export const rebuildCommand: CommandDef = {
  name: 'rebuild',
  summary: 'rebuild a host from intent: back up, destroy, recreate from the current template, converge, restore its data',
  description:
    'Rebuild over mutation. The plan says what is destroyed (the VM and its disks), which template it comes back from\n' +
    '(the one its channel points at now) and which backup its data comes back from. The last good backup must be\n' +
    'fresher than the persona\'s backup.maxAge; otherwise one is taken first. With --approve, in order: back up (if\n' +
    'needed), destroy and recreate the VM with Terraform, converge the system once it has booted, restore the data,\n' +
    'deploy the stacks and wait until they are healthy. Each phase is recorded in .ahl/state/rebuild/HOST.json as it\n' +
    'ends: a failure midway stops there, says why, and `ahl rebuild HOST --resume --approve` carries on from the\n' +
    'phase that failed, with the same backup. A rebuild that finished is not carried on: the next --approve rebuilds\n' +
    'again, with its own plan and backup. ahl never deletes a backup. AHL_REBUILD_FAIL_AFTER=PHASE stops a rebuild\n' +
    'after that phase, as a failure would (for drills and tests).\n' +
    'Exit status: 0 planned or rebuilt; 1 a phase failed (resumable); 2 ahl could not run.',
  positionals: [{ name: 'HOST', description: 'the host to rebuild (a VM)' }],
  options: [
    { name: 'approve', type: 'boolean', description: 'rebuild; without it only the plan is shown' },
    { name: 'resume', type: 'boolean', description: 'carry on an unfinished rebuild from the phase that failed' },
  ],
  locks: (o) => Boolean(o.approve),
  examples: [
    { command: 'ahl rebuild docker-01', description: 'what a rebuild would destroy, recreate and restore (changes nothing)' },
    { command: 'ahl rebuild docker-01 --approve', description: 'rebuild it' },
    { command: 'ahl rebuild docker-01 --resume --approve', description: 'finish a rebuild that stopped midway' },
  ],
  run: async (ctx) => (await handlers()).rebuild(ctx),
};
