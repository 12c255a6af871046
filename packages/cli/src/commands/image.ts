import { isAbsolute, join, relative } from 'node:path';
import type { Lab, ProxmoxClient } from '@ahl/core';
import type { CommandContext, CommandDef } from '../command.js';
import { loadValidLab } from '../runs/lab-root.js';
import { progressReporter } from '../runs/image.js';

/** Runs `fn` with the lab and a connected client, closing the client afterwards. */
async function withClient<T>(ctx: CommandContext, fn: (lab: Lab, client: ProxmoxClient) => Promise<T>): Promise<T> {
  const { connectLab } = await import('@ahl/core');
  const lab = await loadValidLab(ctx);
  const client = await connectLab(lab.config, await ctx.secrets(lab.root), lab.root);
  try {
    return await fn(lab, client);
  } finally {
    await client.close();
  }
}

/** The end of a failed task's log, dim, under the failure. */
function printTaskLog(out: CommandContext['out'], log: readonly string[] | undefined): void {
  if (log?.length) out.line(out.style('dim', log.slice(-20).map((l) => `  | ${l}`).join('\n')));
}

async function knownImage(lab: Lab, name: string, command: string): Promise<void> {
  if (lab.images[name]) return;
  const { ahlError } = await import('@ahl/core');
  throw ahlError('USAGE', { message: `image "${name}" is not declared (images: ${Object.keys(lab.images).join(', ')})`, command });
}

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
  async run(ctx) {
    const { buildTemplate } = await import('@ahl/l1-image');
    const { VERSION } = await import('../main.js');
    const name = ctx.positionals[0]!;
    return withClient(ctx, async (lab, client) => {
      await knownImage(lab, name, 'image build');
      const { out } = ctx;
      const r = await buildTemplate(lab, client, name, {
        force: Boolean(ctx.options.force),
        toolVersion: VERSION,
        reporter: progressReporter(out),
      });
      if (ctx.global.json) out.json(r);
      if (r.outcome === 'skipped') out.line(`${out.style('green', '✓')} ${r.reason}`);
      else if (r.outcome === 'built') out.line(`${out.style('green', '✓')} built ${r.manifest.templateName} (vmid ${r.manifest.vmid})${r.promoted ? `, now ${name}@${r.promoted}` : `; promote it with \`ahl image promote ${name} ${r.manifest.version}\``}`);
      else {
        out.line(`${out.style('red', '✗')} ${name}: the ${r.step} step failed: ${r.message}`);
        printTaskLog(out, r.taskLog);
        out.line(r.removed.length ? `  removed what the build made: ${r.removed.join(', ')}` : '  nothing was left behind');
      }
      return r.outcome === 'failed' ? 1 : 0;
    });
  },
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
    async run(ctx) {
      const { loadValidLab: load } = await import('../runs/lab-root.js');
      const l1 = await import('@ahl/l1-image');
      const lab = await load(ctx);
      const [name, version] = ctx.positionals as [string, string];
      await knownImage(lab, name, `image ${kind}`);
      const channel = typeof ctx.options.channel === 'string' ? ctx.options.channel : 'stable';
      const r = kind === 'promote' ? await l1.promote(lab, name, version, channel) : await l1.rollback(lab, name, channel);
      if (ctx.global.json) ctx.out.json(r);
      if (!r.ok) {
        ctx.out.line(`${ctx.out.style('red', '✗')} ${r.reason}`);
        return 1;
      }
      ctx.out.line(`${ctx.out.style('green', '✓')} ${name}@${channel}: ${r.from ?? '(none)'} → ${r.to}`);
      if (r.lagging.length) ctx.out.line(`  lagging until rebuilt: ${r.lagging.join(', ')}`);
      return 0;
    },
  };
}

export const imagePromoteCommand = channelCommand('promote');
export const imageRollbackCommand = channelCommand('rollback');

export const imageListCommand: CommandDef = {
  name: 'image list',
  summary: 'L1: declared images, their templates on the server, channels, hosts per channel, orphans',
  examples: [{ command: 'ahl image list', description: 'what is built and what follows what' }],
  async run(ctx) {
    const { listTemplates } = await import('@ahl/l1-image');
    return withClient(ctx, async (lab, client) => {
      const l = await listTemplates(lab, client);
      if (ctx.global.json) ctx.out.json(l);
      for (const i of l.images) {
        ctx.out.line(ctx.out.style('bold', i.image));
        if (!i.templates.length) ctx.out.line('  no template built yet');
        for (const t of i.templates)
          ctx.out.line(`  ${t.version}  vmid ${String(t.vmid).padEnd(6)} ${t.present ? 'present' : ctx.out.style('red', 'MISSING')}${t.channels.length ? `  ← ${t.channels.join(', ')}` : ''}`);
        for (const [ch, hosts] of Object.entries(i.hosts)) ctx.out.line(ctx.out.style('dim', `  @${ch}: ${hosts.join(', ')}`));
      }
      for (const o of l.orphans) ctx.out.line(ctx.out.style('yellow', `orphan template ${o.name} (vmid ${o.vmid}) on ${o.node}: no manifest records it`));
      return 0;
    });
  },
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
  async run(ctx) {
    const { prune } = await import('@ahl/l1-image');
    const { ahlError } = await import('@ahl/core');
    const keep = ctx.options.keep === undefined ? 3 : Number(ctx.options.keep);
    if (!Number.isInteger(keep) || keep < 0) throw ahlError('USAGE', { message: `--keep must be a whole number, got "${String(ctx.options.keep)}"`, command: 'image prune' });
    return withClient(ctx, async (lab, client) => {
      const name = ctx.positionals[0]!;
      await knownImage(lab, name, 'image prune');
      const r = await prune(lab, client, name, { keep, approve: Boolean(ctx.options.approve) });
      if (ctx.global.json) ctx.out.json(r);
      for (const d of r.decisions) ctx.out.line(`${d.action === 'remove' ? ctx.out.style('red', 'remove') : 'keep  '} ${d.manifest.templateName} (vmid ${d.manifest.vmid}): ${d.reason}`);
      const n = r.decisions.filter((d) => d.action === 'remove').length;
      if (!ctx.options.approve) ctx.out.line(n ? `${n} to remove; run again with --approve to remove them` : 'nothing to remove');
      else ctx.out.line(`removed ${r.removed.length}`);
      return 0;
    });
  },
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
  async run(ctx) {
    const { ahlError, nodeShell } = await import('@ahl/core');
    const { capture, captureToStore, openCaptureStore } = await import('@ahl/l1-image');
    const { out } = ctx;
    return withClient(ctx, async (lab, client) => {
      const to = ctx.options.to ?? (lab.config.captureStore ? 'store' : 'storage');
      if (to !== 'store' && to !== 'storage') throw ahlError('USAGE', { message: `--to takes store or storage, not "${String(to)}"`, command: 'image capture' });
      if (to === 'store' && ctx.options.running) throw ahlError('USAGE', { message: '--running goes with --to storage (vzdump\'s snapshot mode); to the store, use --stop', command: 'image capture' });
      const t = ctx.positionals[0]!;
      const target = { ...(/^\d+$/.test(t) ? { vmid: Number(t) } : { host: t }), ...(typeof ctx.options.image === 'string' ? { image: ctx.options.image } : {}) };
      let r;
      if (to === 'store') {
        const store = await openCaptureStore(lab.config, await ctx.secrets(lab.root));
        try {
          r = await captureToStore(lab, client, store, (node) => nodeShell(lab, node, { signal: ctx.signal }), target, { stop: Boolean(ctx.options.stop), reporter: progressReporter(out) });
        } finally {
          store.close();
        }
      } else r = await capture(lab, client, target, { allowRunning: Boolean(ctx.options.running) });
      if (ctx.global.json) out.json(r);
      if (!r.ok) {
        out.line(`${out.style('red', '✗')} ${r.reason}`);
        printTaskLog(out, r.taskLog);
        return 1;
      }
      const c = r.capture;
      const where = c.where === 'store' ? `${c.url} (${Math.round(c.size / 1024 / 1024)} MiB, ${c.digest})` : `${c.volid} (${Math.round(c.size / 1024 / 1024)} MiB)`;
      out.line(`${out.style('green', '✓')} captured VM ${c.sourceVmid} to ${where}; record ${relative(lab.root, r.file)}`);
      return 0;
    });
  },
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
  async run(ctx) {
    const { out } = ctx;
    return withClient(ctx, async (lab, client) => {
      await knownImage(lab, ctx.positionals[0]!, 'image restore-capture');
      const { labCaptureStore, restoreCapture } = await import('@ahl/l1-image');
      const store = labCaptureStore(lab, () => ctx.secrets(lab.root));
      const r = await restoreCapture(lab, client, ctx.positionals[0]!, {
        ...(store ? { store } : {}),
        ...(typeof ctx.options.version === 'string' ? { version: ctx.options.version } : {}),
        ...(ctx.options.force ? { force: true } : {}),
        reporter: progressReporter(out),
      });
      if (ctx.global.json) out.json(r);
      if (!r.ok) {
        out.line(`${out.style('red', '✗')} ${r.reason}`);
        printTaskLog(out, r.taskLog);
        return 1;
      }
      if (r.skipped) out.line(`${out.style('green', '✓')} ${r.skipped}`);
      else out.line(`${out.style('green', '✓')} template ${r.manifest.templateName} (vmid ${r.manifest.vmid}) from ${r.manifest.source.capture}${r.promoted ? `, now ${r.manifest.image}@${r.promoted}` : ''}`);
      return 0;
    });
  },
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
  async run(ctx) {
    const { ahlError } = await import('@ahl/core');
    const { renderNoCloud, writeSeedIso } = await import('@ahl/l1-image');
    const lab = await loadValidLab(ctx);
    const name = ctx.positionals[0]!;
    const host = lab.hosts.find((h) => h.name === name);
    if (!host) throw ahlError('USAGE', { message: `no host named "${name}"; bare-metal hosts: ${lab.hosts.filter((h) => h.runtime === 'baremetal').map((h) => h.name).join(', ') || '(none)'}`, command: 'image seed' });
    if (host.runtime !== 'baremetal') throw ahlError('USAGE', { message: `"${name}" is a VM: Proxmox gives it its cloud-init drive; seeds are for hosts with runtime: baremetal`, command: 'image seed' });
    const seed = renderNoCloud(lab, host);
    if (ctx.options.print) {
      for (const [doc, text] of Object.entries(seed)) ctx.out.result(`# ---- ${doc}\n${text}`);
      if (ctx.global.json) ctx.out.json({ host: name, documents: seed });
      return 0;
    }
    const file = typeof ctx.options.output === 'string' ? (isAbsolute(ctx.options.output) ? ctx.options.output : join(ctx.cwd, ctx.options.output)) : join(lab.root, '.ahl', 'seed', `${name}.iso`);
    await writeSeedIso(seed, file, ctx.env.AHL_GENISOIMAGE ?? 'genisoimage');
    ctx.out.line(`${ctx.out.style('green', '✓')} wrote ${relative(ctx.cwd, file) || file}: the cidata seed of ${name} (${host.ip?.cidr ?? 'DHCP'}${host.mac ? ` on ${host.mac}` : ''})`);
    if (ctx.global.json) ctx.out.json({ host: name, file, documents: seed });
    return 0;
  },
};
