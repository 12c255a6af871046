import type { CommandDef } from '../command.js';

const handlers = () => import('../handlers/passthrough.js');

export const passthroughCommand: CommandDef = {
  name: 'passthrough',
  summary: 'L2: converge the physical disks declared on hosts (passthrough) onto their VMs, as root@pam',
  description:
    'Reads each VM\'s config and compares its drives with the host\'s `passthrough` list: a declared disk that is missing\n' +
    'is attached, one attached with other options gets the declared ones, one attached as declared is left alone.\n' +
    'Nothing is ever detached: a device path on the VM that the intent lacks is reported, and so is a slot that holds\n' +
    'another disk or a disk that sits in another slot; those are the operator\'s to resolve. Without --approve only the\n' +
    'plan is shown, with the equivalent `qm set` line. Proxmox lets only root@pam, logged in with its password, give a\n' +
    'VM a device path (API tokens, root@pam!… too, are refused): --approve logs in with proxmox.rootPassword for this\n' +
    'step alone; without one, run the printed `qm set` lines on the node as root.\n' +
    'Exit status: 0 in sync, planned or applied; 1 a conflict, a failure, or changes that need root@pam; 2 ahl could not run.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: every VM)' }],
  options: [{ name: 'approve', type: 'boolean', description: 'make the changes; without it only the plan is shown' }],
  locks: (o) => Boolean(o.approve),
  examples: [
    { command: 'ahl passthrough nas', description: 'what the nas persona\'s VMs lack (dry run)' },
    { command: 'ahl passthrough nas-01 --approve', description: 'attach nas-01\'s declared disks' },
    { command: 'ahl passthrough --json | jq \'.hosts[].actions[] | select(.kind == "unmanaged")\'', description: 'device paths on VMs that no host declares' },
  ],
  run: async (ctx) => (await handlers()).passthrough(ctx),
};
