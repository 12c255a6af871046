import { isAbsolute, join, relative } from 'node:path';
import { ahlError, connectLab, type Lab, nodeShell, type ProxmoxClient } from '@ahl/core';
import { buildTemplate, capture, captureToStore, labCaptureStore, listTemplates, openCaptureStore, promote, prune, renderNoCloud, restoreCapture, rollback, writeSeedIso } from '@ahl/l1-image';
import type { CommandContext } from '../command.js';
import { VERSION } from '../main.js';
import { progressReporter } from '../runs/image.js';
import { loadValidLab } from '../runs/lab-root.js';

/** Runs `fn` with the lab and a connected client, closing the client afterwards. */
async function withClient<T>(ctx: CommandContext, fn: (lab: Lab, client: ProxmoxClient) => Promise<T>): Promise<T> {
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
  throw ahlError('USAGE', { message: `image "${name}" is not declared (images: ${Object.keys(lab.images).join(', ')})`, command });
}

/** `ahl image build`. */
export async function imageBuild(ctx: CommandContext): Promise<number> {
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
}

/** `ahl image promote` and `ahl image rollback`. */
export async function imageChannel(ctx: CommandContext, kind: 'promote' | 'rollback'): Promise<number> {
      const lab = await loadValidLab(ctx);
    const [name, version] = ctx.positionals as [string, string];
    await knownImage(lab, name, `image ${kind}`);
    const channel = typeof ctx.options.channel === 'string' ? ctx.options.channel : 'stable';
    const r = kind === 'promote' ? await promote(lab, name, version, channel) : await rollback(lab, name, channel);
    if (ctx.global.json) ctx.out.json(r);
    if (!r.ok) {
      ctx.out.line(`${ctx.out.style('red', '✗')} ${r.reason}`);
      return 1;
    }
    ctx.out.line(`${ctx.out.style('green', '✓')} ${name}@${channel}: ${r.from ?? '(none)'} → ${r.to}`);
    if (r.lagging.length) ctx.out.line(`  lagging until rebuilt: ${r.lagging.join(', ')}`);
    return 0;
}

/** `ahl image list`. */
export async function imageList(ctx: CommandContext): Promise<number> {
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
}

/** `ahl image prune`. */
export async function imagePrune(ctx: CommandContext): Promise<number> {
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
}

/** `ahl image capture`. */
export async function imageCapture(ctx: CommandContext): Promise<number> {
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
}

/** `ahl image restore-capture`. */
export async function imageRestoreCapture(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  return withClient(ctx, async (lab, client) => {
    await knownImage(lab, ctx.positionals[0]!, 'image restore-capture');
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
}

/** `ahl image seed`. */
export async function imageSeed(ctx: CommandContext): Promise<number> {
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
}
