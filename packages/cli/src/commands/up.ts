import type { CommandDef, OptionDef } from '../command.js';

const handlers = () => import('../handlers/up.js');

const FORMAT_OPTION: OptionDef = { name: 'format', type: 'string', value: 'text|markdown', description: 'text for a terminal (default), or markdown on stdout for a pull-request comment' };

export const upCommand: CommandDef = {
  name: 'up',
  summary: 'bring hosts to their intent, layer by layer: runway, templates, VMs, system, workloads',
  description:
    'Runs the layers in order for the hosts of TARGET (default: the whole lab), stopping at the first that fails:\n' +
    '  L0  the runway checks (a FAIL stops here)\n' +
    '  L1  only the templates that are missing: a cloud image is built, an appliance restored from its newest capture\n' +
    '  L2  VMs with Terraform (as `ahl apply`, targeted to the hosts): missing VMs are created, settings updated in\n' +
    '      place, existing VMs not in the state adopted; a plan that would replace or destroy a VM stops up (that is\n' +
    '      `ahl apply HOST --approve`, after a backup). Then passthrough disks onto the VMs\n' +
    '  L3  `converge system` on every host it manages that exists (bare metal included); VMs L2 just created are\n' +
    '      waited for (SSH, then cloud-init) first. A host whose last full converge recorded the intent it gets now\n' +
    '      is left alone (seconds instead of a full run): hand-made drift is `ahl drift`/`ahl converge`\'s to find and undo\n' +
    '  L4  `converge workload` likewise, and a host left alone also needs every stack running (stacks no longer\n' +
    '      declared are listed, never removed: use converge workload --approve)\n' +
    'Without --approve nothing is changed: the runway runs, then each layer says what it would do, L3 and L4 with\n' +
    'Ansible --check on the hosts that exist. Ctrl-C stops after the step in hand; the summary says what was done.\n' +
    'Exit status: 0 all layers done (or planned), 1 a layer failed or is blocked, 2 ahl could not run, 130 interrupted.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: every host)' }],
  options: [{ name: 'approve', type: 'boolean', description: 'apply; without it only the plan of every layer is shown' }, FORMAT_OPTION],
  locks: (o) => Boolean(o.approve),
  examples: [
    { command: 'ahl up', description: 'the plan for the whole lab, layer by layer (changes nothing)' },
    { command: 'ahl up docker --approve', description: 'bring the docker persona up: templates, VMs, OS, stacks' },
    { command: 'ahl up --approve --json | jq \'.layers[] | select(.state == "failed")\'', description: 'which layer stopped the run' },
  ],
  run: async (ctx) => (await handlers()).up(ctx, Boolean(ctx.options.approve)),
};

export const planCommand: CommandDef = {
  name: 'plan',
  summary: 'what `ahl up` would do, layer by layer; changes nothing (--format markdown for a review comment)',
  description:
    '`ahl up` without --approve: runs the runway, then says per layer what it would do — the templates to build,\n' +
    'Terraform\'s plan of the VMs (L2) and passthrough disks to attach, and what L3 and L4 would change on the hosts that\n' +
    'exist (Ansible --check). Needs the Proxmox API and SSH to the hosts, as up does. --format markdown prints the plan\n' +
    'on stdout for a pull-request comment, what needs attention first.\n' +
    'Exit status: 0 the plan can be applied, 1 a layer would fail or is blocked, 2 ahl could not run.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: every host)' }],
  options: [FORMAT_OPTION],
  examples: [
    { command: 'ahl plan', description: 'the plan for the whole lab' },
    { command: 'ahl plan docker --format markdown > plan.md', description: 'the docker persona\'s plan, as a review comment' },
  ],
  run: async (ctx) => (await handlers()).up(ctx, false),
};
