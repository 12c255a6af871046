import { ahlError } from '@ahl/core';
import { backupNow, backupStatus, restoreWorkloads } from '@ahl/l4-workload';
import { ago, rememberBackupRuns, rememberBackups } from '@ahl/ops';
import type { CommandContext } from '../command.js';
import { ansibleFailure, ansibleReporter } from '../runs/ansible.js';
import { loadValidLab } from '../runs/lab-root.js';
import { workloadRun } from '../runs/layers.js';

/*
 * L4: `ahl converge workload`, `ahl backup` and `ahl restore`. Each loads and checks the lab, runs
 * one of @ahl/l4-workload's playbooks with live per-host progress on stderr, prints a line per host
 * (and per stack) and, with --json, the library's result on stdout. Secrets resolved for the run
 * are masked in all of it.
 */

function progress(ctx: CommandContext, check = false) {
  return ansibleReporter(ctx.out, check ? 'would change' : 'changed');
}

/** `ahl converge workload`. */
export async function convergeWorkload(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const lab = await loadValidLab(ctx);
  const root = lab.root;
  const check = Boolean(ctx.options.check);
  const stacks = typeof ctx.options.stack === 'string' ? ctx.options.stack.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
  const secrets = await ctx.secrets(root);
  try {
    const { code, result } = await workloadRun(ctx, lab, secrets, { ...(ctx.positionals[0] ? { targets: [ctx.positionals[0]] } : {}), ...(stacks ? { stacks } : {}), check, approve: Boolean(ctx.options.approve) });
    if (ctx.global.json) out.json({ ...result, ok: code === 0 });
    return code;
  } catch (e) {
    return ansibleFailure(ctx, e);
  }
}

/** `ahl backup`. */
export async function backup(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const lab = await loadValidLab(ctx);
  const root = lab.root;
  const secrets = await ctx.secrets(root);
  const base = { ...(ctx.positionals[0] ? { targets: [ctx.positionals[0]] } : {}), redactor: secrets.redactor, env: ctx.env, reporter: progress(ctx) };
  try {
    if (ctx.options.status) {
      const r = await backupStatus(lab, base);
      await rememberBackups(ctx.out.warn, root, r.hosts);
      for (const h of r.hosts) {
        const mark = h.fresh ? out.style('green', '✓') : out.style('red', '✗');
        out.line(`${mark} ${h.host}  last good backup: ${h.last ? `${h.last.id} (${ago(h.ageMs)}, ${h.last.size ?? '?'} bytes, ${h.last.digest ?? ''})` : 'none'}  maxAge ${h.maxAge}`);
        if (h.lastFailure && (!h.last || h.lastFailure.time > h.last.time)) out.warn(`    last attempt ${h.lastFailure.id} failed (exit ${h.lastFailure.exitCode ?? '?'})`);
        if (h.message) out.line(`    ${h.message.split('\n')[0]}`);
      }
      if (ctx.global.json) out.json(r);
      return r.hosts.every((h) => h.fresh) ? 0 : 1;
    }
    const r = await backupNow(lab, base);
    await rememberBackupRuns(ctx.out.warn, root, r.hosts);
    for (const h of r.hosts) {
      if (h.status === 'ok') out.line(`${out.style('green', '✓')} ${h.host}  snapshot ${h.record!.id}  ${h.record!.size} bytes in ${h.record!.files} files  ${h.record!.digest}`);
      else out.line(`${out.style('red', '✗')} ${h.host}  ${h.status}: ${h.message ?? ''}`);
    }
    if (ctx.global.json) out.json(r);
    return r.ok ? 0 : 1;
  } catch (e) {
    return ansibleFailure(ctx, e);
  }
}

/** `ahl restore`. */
export async function restore(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  if (!ctx.positionals[0]) throw ahlError('USAGE', { message: 'name the host to restore', command: 'restore' });
  const lab = await loadValidLab(ctx);
  const root = lab.root;
  const secrets = await ctx.secrets(root);
  try {
    const r = await restoreWorkloads(lab, {
      targets: [ctx.positionals[0]],
      ...(typeof ctx.options.snapshot === 'string' ? { snapshot: ctx.options.snapshot } : {}),
      approve: Boolean(ctx.options.approve),
      redactor: secrets.redactor,
      env: ctx.env,
      reporter: progress(ctx),
    });
    for (const h of r.hosts) {
      if (h.status === 'ok') out.line(`${out.style('green', '✓')} ${h.host}  restored snapshot ${h.record?.id}  digest verified${h.record?.restarted.length ? `  restarted ${h.record.restarted.join(', ')}` : ''}`);
      else out.line(`${out.style(h.status === 'refused' ? 'yellow' : 'red', '✗')} ${h.host}  ${h.status}: ${h.message ?? ''}${h.status === 'refused' ? ' (--approve overwrites)' : ''}`);
    }
    if (ctx.global.json) out.json(r);
    return r.ok ? 0 : 1;
  } catch (e) {
    return ansibleFailure(ctx, e);
  }
}
