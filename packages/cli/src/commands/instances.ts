import type { CommandContext, CommandDef } from '../command.js';

const handlers = () => import('../handlers/instances.js');

export const applyCommand: CommandDef = {
  name: 'apply',
  summary: 'L2: plan the VMs with Terraform (bpg/proxmox) and, with --approve, apply exactly that plan',
  description:
    'Renders the lab\'s VMs as one Terraform root module (.ahl/terraform/main.tf.json), runs terraform (or tofu) plan\n' +
    'and shows per VM what would happen: create, update in place (with the attributes), replace (with the attribute\n' +
    'that forces it) or destroy (a host no longer in the personas), and what was changed outside ahl. With --approve the\n' +
    'saved plan, and nothing else, is applied, with progress per VM. A TARGET limits the plan to its hosts (terraform\n' +
    '-target), and then never destroys anything else. Moving a template channel never replaces existing VMs: the clone\n' +
    'source is read at creation only (`ahl drift` reports the lag). The token reaches Terraform only in its environment.\n' +
    'Exit status: 0 planned or applied; 1 a host was left out (its template is not built); 2 Terraform or ahl failed.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: every VM)' }],
  options: [{ name: 'approve', type: 'boolean', description: 'apply the plan; without it only the plan is shown' }],
  locks: () => true,
  examples: [
    { command: 'ahl apply', description: 'what Terraform would do to every VM (changes nothing)' },
    { command: 'ahl apply docker --approve', description: 'create or update the docker persona\'s VMs' },
    { command: 'ahl apply --json | jq \'.plan.hosts[] | select(.action != "no-op")\'', description: 'the VMs that would change' },
  ],
  run: async (ctx) => (await handlers()).apply(ctx),
};

export const destroyCommand: CommandDef = {
  name: 'destroy',
  summary: 'L2: destroy a host\'s VM with Terraform (--approve); its disks go with it',
  description:
    'Plans `terraform destroy` of the named hosts\' VMs alone (targeted) and shows it; with --approve applies that plan:\n' +
    'the VM is stopped and deleted with its disks. Nothing else in the lab is touched, and the host stays in the personas\n' +
    '(`ahl apply --approve` or `ahl up` would create it again). Take a backup first if the host holds data (`ahl backup`).\n' +
    'Exit status: 0 planned or destroyed; 2 Terraform or ahl failed.',
  positionals: [{ name: 'HOST', description: 'a host (or a persona or group: each of its hosts)' }],
  options: [{ name: 'approve', type: 'boolean', description: 'destroy; without it only the plan is shown' }],
  locks: () => true,
  examples: [
    { command: 'ahl destroy docker-03', description: 'what would be destroyed (changes nothing)' },
    { command: 'ahl destroy docker-03 --approve', description: 'destroy docker-03\'s VM and its disks' },
  ],
  run: async (ctx) => (await handlers()).destroy(ctx),
};
