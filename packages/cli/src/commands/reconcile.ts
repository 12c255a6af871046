import { LAYER_OPTION, type CommandDef } from '../command.js';

const handlers = () => import('../handlers/reconcile.js');

export const reconcileCommand: CommandDef = {
  name: 'reconcile',
  summary: 'drift, then put back what is safe (VM settings, L3 and L4 converges, in place); anything destructive waits for approval',
  description:
    'Runs `ahl drift` on the selected hosts (one status call, Terraform\'s plan of the VMs, then the L3 and L4 playbooks with\n' +
    '--check) and makes what reconciles the findings where it is safe: a Terraform apply of VMs whose settings changed\n' +
    '(in place: memory, cores, tags…), `converge system` for OS drift, then `converge workload` for stack drift (a stack no\n' +
    'longer declared is never removed here). A VM to create or replace, a passthrough disk, or a rebuild for a template\n' +
    'that moved on is listed as awaiting approval and not made. --plan shows the steps and changes nothing. Meant for a\n' +
    'timer as well as a terminal: --notify REF posts the outcome as JSON to a webhook whenever something was found\n' +
    '(REF is a secret reference to the URL). The payload: {"lab", "at", "clean", "summary", "reconciled": [{"layer",\n' +
    '"host", "detail"}], "awaitingApproval": [...], "failed": [...], "unchecked": [{"layer", "host", "reason"}]}.\n' +
    'Exit status: 0 nothing drifted or everything was reconciled; 1 something awaits approval, failed or could not be\n' +
    'checked (or, with --plan, there is something to do); 2 ahl could not run.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: all)' }],
  options: [
    LAYER_OPTION,
    { name: 'plan', type: 'boolean', description: 'show what would be made; change nothing' },
    { name: 'notify', type: 'string', value: 'REF', description: 'post the outcome to the webhook URL this secret reference holds, when something was found' },
  ],
  locks: (o) => !o.plan,
  examples: [
    { command: 'ahl reconcile --plan', description: 'what reconcile would make, and what would wait for approval' },
    { command: 'ahl reconcile docker --layer L4', description: 'put the docker hosts\' stacks back as declared' },
    { command: 'ahl reconcile --notify env:AHL_WEBHOOK', description: 'from a timer: reconcile, and tell a webhook what happened' },
  ],
  run: async (ctx) => (await handlers()).reconcile(ctx),
};
