import type { CommandContext, CommandDef } from '../command.js';

const handlers = () => import('../handlers/lab.js');

export const labUpCommand: CommandDef = {
  name: 'lab up',
  summary: 'start the local lab: a simulated Proxmox VE whose started VMs are real QEMU guests (needs root)',
  description:
    'Starts pve-sim with the QEMU backend in the background, with the nodes, storage and bridges lab.yaml names (the\n' +
    'bridges live in a private network namespace holding the hosts\' gateways), and serves the testlab Debian image as every\n' +
    'cloud image. Each bare-metal host is a machine on its bridge booting that image with the seed `ahl image seed` writes\n' +
    '(ready once it answers SSH). Writes lab.local.yaml so ahl in this checkout targets the local lab until `ahl lab down`:\n' +
    'the endpoint and pin, a key of the lab\'s own that the guests trust beside lab.yaml\'s, the apt proxy (the guests\' only\n' +
    'way out: the Debian mirror their image was built from), and Docker from the distribution. Guests get at most 1 GiB and 1 vCPU each;\n' +
    'without working KVM they run under TCG (slow, but real).',
  examples: [
    { command: 'ahl lab up', description: 'start it, as root (the first start builds the guest image: a few minutes)' },
    { command: 'ahl lab up && ahl runway && ahl image build debian-bookworm', description: 'rehearse the lab locally' },
  ],
  run: async (ctx) => (await handlers()).labUp(ctx),
};

export const labDownCommand: CommandDef = {
  name: 'lab down',
  summary: 'stop the local lab and remove every guest, disk, namespace and file it made',
  examples: [{ command: 'ahl lab down', description: 'tear it all down' }],
  run: async (ctx) => (await handlers()).labDown(ctx),
};

export const labStatusCommand: CommandDef = {
  name: 'lab status',
  summary: 'is the local lab up, where, and which guests run in it',
  examples: [{ command: 'ahl lab status --json', description: 'for scripts' }],
  run: async (ctx) => (await handlers()).labStatus(ctx),
};
