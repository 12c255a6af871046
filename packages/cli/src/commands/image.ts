import type { CommandContext, CommandDef } from '../command.js';

const handlers = () => import('../handlers/image.js');

export const imageBuildCommand: CommandDef = {
  name: 'image build',
  locks: () => true,
  summary: 'L1: build the template of an image from its checksummed cloud image, over the API',
  description:
    'Downloads the cloud image to the import storage with its checksum verified by the node, creates a VM importing it\n' +
    '(cloud-init drive, serial console, guest agent, the spec\'s machine/bios/scsihw), converts it to a template and writes\n' +
    'images/NAME/artifacts/VERSION.json. Skipped when a template from the same spec and source exists (--force rebuilds).\n' +
    'The first template of an image becomes stable; later ones wait for `ahl image promote`. A failure removes what the\n' +
    'build made and names the step, with the task log.',
  positionals: [{ name: 'NAME', description: 'an image declared in images/NAME.yaml' }],
  options: [{ name: 'force', type: 'boolean', description: 'build even when an identical template exists' }],
  examples: [
    { command: 'ahl image build ubuntu-noble', description: 'build (or confirm) the Ubuntu template' },
    { command: 'ahl image build debian-bookworm --force', description: 'build a fresh version next to the existing one' },
  ],
  run: async (ctx) => (await handlers()).imageBuild(ctx),
};

function channelCommand(kind: 'promote' | 'rollback'): CommandDef {
  return {
    name: `image ${kind}`,
    locks: () => true,
    summary: kind === 'promote' ? 'L1: point a channel (stable, canary) at a built template version' : 'L1: point a channel back at its previous version',
    description: 'Running VMs are never changed: the hosts following the channel now lag it until `ahl rebuild`, and are listed.',
    positionals: kind === 'promote' ? [{ name: 'NAME', description: 'the image' }, { name: 'VERSION', description: 'a built version (see `ahl image list`)' }] : [{ name: 'NAME', description: 'the image' }],
    options: [{ name: 'channel', type: 'string', value: 'CHANNEL', description: 'stable (default) or canary' }],
    examples:
      kind === 'promote'
        ? [{ command: 'ahl image promote ubuntu-noble 20261126-010203 --channel canary', description: 'try a new template on canary hosts first' }]
        : [{ command: 'ahl image rollback ubuntu-noble', description: 'undo the last promotion of stable' }],
    run: async (ctx) => (await handlers()).imageChannel(ctx, kind),
  };
}

export const imagePromoteCommand = channelCommand('promote');
export const imageRollbackCommand = channelCommand('rollback');

export const imageListCommand: CommandDef = {
  name: 'image list',
  summary: 'L1: declared images, their templates on the server, channels, hosts per channel, orphans',
  examples: [{ command: 'ahl image list', description: 'what is built and what follows what' }],
  run: async (ctx) => (await handlers()).imageList(ctx),
};

export const imagePruneCommand: CommandDef = {
  name: 'image prune',
  locks: (o) => Boolean(o.approve),
  summary: 'L1: remove old templates that no channel and no VM uses (plan only without --approve)',
  positionals: [{ name: 'NAME', description: 'the image' }],
  options: [
    { name: 'keep', type: 'string', value: 'N', description: 'always keep the N newest versions (default 3)' },
    { name: 'approve', type: 'boolean', description: 'remove them; without it only the plan is shown' },
  ],
  examples: [
    { command: 'ahl image prune ubuntu-noble --keep 2', description: 'see what would be removed' },
    { command: 'ahl image prune ubuntu-noble --keep 2 --approve', description: 'remove it' },
  ],
  run: async (ctx) => (await handlers()).imagePrune(ctx),
};

export const imageCaptureCommand: CommandDef = {
  name: 'image capture',
  locks: () => true,
  summary: 'L1: capture an appliance\'s boot disk (HAOS, TrueNAS) to the capture store (S3) or the backup storage, with a manifest',
  description:
    '--to store (the default when lab.yaml has a captureStore): the node converts the boot disk to qcow2 (qemu-img, over\n' +
    'its shell: nodes.NODE.ssh, default root@ the endpoint\'s host), ahl streams it to S3 while hashing it, checks the\n' +
    'digest against the node\'s and writes a manifest (size, sha256) beside it. --to storage: a vzdump archive of the\n' +
    'whole VM on the backup storage. Either way the VM must be stopped for a consistent disk: --stop shuts it down and\n' +
    'starts it again afterwards; with --to storage, --running captures it running in vzdump\'s snapshot mode.\n' +
    'Exit status: 0 captured, 1 refused or failed, 2 ahl could not run.',
  positionals: [{ name: 'TARGET', description: 'a host of an appliance persona, or a vmid (then --image)' }],
  options: [
    { name: 'image', type: 'string', value: 'NAME', description: 'the appliance image the capture is for (default: the host\'s)' },
    { name: 'to', type: 'string', value: 'store|storage', description: 'where the capture goes (default: store when lab.yaml has a captureStore)' },
    { name: 'stop', type: 'boolean', description: 'shut a running VM down for the capture, and start it again after' },
    { name: 'running', type: 'boolean', description: 'with --to storage: capture a running VM in snapshot mode' },
  ],
  examples: [
    { command: 'ahl image capture homeassistant-01', description: 'capture the stopped Home Assistant VM' },
    { command: 'ahl image capture nas-01 --stop', description: 'shut TrueNAS down, capture its boot disk to S3, start it again' },
    { command: 'ahl image capture 350 --image haos --to storage', description: 'a vzdump capture of a VM ahl does not manage yet' },
  ],
  run: async (ctx) => (await handlers()).imageCapture(ctx),
};

export const imageRestoreCaptureCommand: CommandDef = {
  name: 'image restore-capture',
  locks: () => true,
  summary: 'L1: turn an appliance capture into a template (the newest, or --version), from the store or the backup storage',
  description:
    'A capture in the store: the node downloads the qcow2 image by a presigned URL (valid one hour) to the import storage,\n' +
    'checking its sha256, and a template VM imports it (as `image build` does, without cloud-init). Captures in the store\n' +
    'that this machine has no record of count too, so a new machine restores from the store alone. A vzdump capture:\n' +
    'restored as a new VM, then made a template. The first template of an image becomes stable.',
  positionals: [{ name: 'NAME', description: 'the appliance image' }],
  options: [
    { name: 'version', type: 'string', value: 'VERSION', description: 'which capture (default: the newest)' },
    { name: 'force', type: 'boolean', description: 'make a new template even when one from the same capture exists' },
  ],
  examples: [
    { command: 'ahl image restore-capture haos', description: 'make a HAOS template from its newest capture' },
    { command: 'ahl image restore-capture truenas --version 20261126-040000', description: 'from a chosen capture' },
  ],
  run: async (ctx) => (await handlers()).imageRestoreCapture(ctx),
};

export const imageSeedCommand: CommandDef = {
  name: 'image seed',
  summary: 'L1: a NoCloud seed ISO (user-data, meta-data, network-config) to bring up a bare-metal host',
  description:
    'For a host with runtime: baremetal: writes an ISO 9660 volume labelled cidata holding the cloud-init documents a\n' +
    'VM would get from Proxmox — the lab\'s cloud-init user and SSH keys, the hostname, the static address, gateway and\n' +
    'DNS (the NIC matched by the host\'s mac when it has one). Boot a stock cloud image (or an installer that runs\n' +
    'cloud-init) with it attached, then `ahl converge system|workload` the host like any other. Changes nothing on any\n' +
    'server. --print shows the documents instead. Public keys only: the ISO holds no secret.',
  positionals: [{ name: 'HOST', description: 'a host with runtime: baremetal' }],
  options: [
    { name: 'output', type: 'string', value: 'PATH', description: 'where to write the ISO (default: .ahl/seed/HOST.iso in the lab)' },
    { name: 'print', type: 'boolean', description: 'print the three documents; write no ISO' },
  ],
  examples: [
    { command: 'ahl image seed nuc-01', description: 'write .ahl/seed/nuc-01.iso' },
    { command: 'ahl image seed nuc-01 --output /media/usb/seed.iso', description: 'write it straight to a USB stick\'s filesystem' },
    { command: 'ahl image seed nuc-01 --print', description: 'review what cloud-init will be told' },
  ],
  run: async (ctx) => (await handlers()).imageSeed(ctx),
};
