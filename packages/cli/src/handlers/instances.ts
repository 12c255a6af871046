import { type Lab, plural, selectTargets, vmHosts } from '@ahl/core';
import type { L2Outcome } from '@ahl/l2-instantiate';
import { seconds } from '@ahl/ops';
import type { CommandContext } from '../command.js';
import { loadValidLab } from '../runs/lab-root.js';
import { l2Run } from '../runs/layers.js';
import { countsText, planLines } from '../views/instances.js';

/*
 * L2 on its own: `ahl apply` plans the VMs with Terraform and applies exactly that plan, `ahl destroy`
 * removes one VM. `ahl up` runs the same steps as its L2 layer.
 */

const DONE: Record<string, string> = { create: 'created', update: 'updated', delete: 'destroyed', replace: 'replaced' };

/** Prints the plan (and what was applied), returns the exit status. */
async function reportL2(ctx: CommandContext, lab: Lab, r: L2Outcome, approve: boolean, verb: string): Promise<number> {
  const { out } = ctx;
  const style = (s: Parameters<typeof out.style>[0], t: string) => out.style(s, t);
  const lines = planLines(lab, r.plan, style);
  out.report([out.style('bold', `${verb}: ${countsText(r.plan)}${approve ? '' : r.plan.summary.changes ? ' (nothing was changed; --approve to apply)' : ''}`), ...lines.map((l) => `  ${l}`)].join('\n'));
  if (r.applied) out.line(out.style('green', `applied in ${seconds(r.applied.durationMs)}: ${r.applied.hosts.map((h) => `${h.host} ${h.state === 'failed' ? 'failed' : (DONE[h.action] ?? h.action)}`).join(', ')}`));
  if (ctx.global.json) out.json({ approved: approve, ok: r.plan.unresolved.length === 0, plan: r.plan.summary, unresolved: r.plan.unresolved, ...(r.applied ? { applied: r.applied } : {}) });
  if (r.plan.unresolved.length) {
    const images = [...new Set(r.plan.unresolved.map((u) => u.template))];
    out.warn(`${r.plan.unresolved.length} ${plural(r.plan.unresolved.length, 'host')} left out: ${images.join(', ')} ${images.length === 1 ? 'names' : 'name'} no built template (ahl image build, or ahl up, builds it)`);
    return 1;
  }
  return 0;
}

/** `ahl apply`. */
export async function apply(ctx: CommandContext): Promise<number> {
  const lab = await loadValidLab(ctx);
  const approve = Boolean(ctx.options.approve);
  const hosts = ctx.positionals.length
    ? selectTargets(lab, vmHosts(lab), ctx.positionals, { command: 'apply', unmanaged: 'is bare metal: it has no VM' }).map((h) => h.name)
    : undefined;
  const r = await l2Run(ctx, lab, await ctx.secrets(lab.root), { ...(hosts ? { hosts } : {}), approve });
  return reportL2(ctx, lab, r, approve, approve ? 'ahl apply' : 'ahl apply: the plan');
}

/** `ahl destroy`. */
export async function destroy(ctx: CommandContext): Promise<number> {
  const lab = await loadValidLab(ctx);
  const approve = Boolean(ctx.options.approve);
  const hosts = selectTargets(lab, vmHosts(lab), ctx.positionals, { command: 'destroy', unmanaged: 'is bare metal: it has no VM' }).map((h) => h.name);
  const r = await l2Run(ctx, lab, await ctx.secrets(lab.root), { hosts, destroy: true, approve });
  return reportL2(ctx, lab, r, approve, approve ? 'ahl destroy' : 'ahl destroy: the plan');
}
