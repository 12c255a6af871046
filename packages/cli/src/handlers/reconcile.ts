import { buildReconcile, planReconcile, reconcilePayload, runReconcile } from '@ahl/ops';
import type { CommandContext } from '../command.js';
import { ansibleFailure } from '../runs/ansible.js';
import { checkDrift, driftOptions, notifyWebhook } from '../runs/drift.js';
import { loadValidLab } from '../runs/lab-root.js';
import { l2Run } from '../runs/layers.js';
import { renderDrift } from '../views/drift.js';
import { renderReconcile } from '../views/reconcile.js';

/** `ahl reconcile`. */
export async function reconcile(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const { layers, notify } = await driftOptions(ctx, 'reconcile');
  const apply = !ctx.options.plan;
  const lab = await loadValidLab(ctx);
  const secrets = await ctx.secrets(lab.root);
  try {
    const drift = await checkDrift(ctx, lab, secrets, layers, 'reconcile');
    if (drift.findings.length) out.line(renderDrift(drift, (s, t) => out.style(s, t)).trimEnd());
    const steps = planReconcile(drift);
    const outcomes = await runReconcile(lab, steps, {
      apply,
      secrets,
      l2: (o) => l2Run(ctx, lab, secrets, o),
      redactor: secrets.redactor,
      env: ctx.env,
      reporter: out.reporter(undefined, (m) => out.style('dim', m)),
      warn: out.warn,
      signal: ctx.signal,
    });
    const report = buildReconcile(drift, steps, outcomes, apply, new Date());
    out.report(renderReconcile(report, (s, t) => out.style(s, t)).trimEnd());
    if (typeof notify === 'string' && (steps.length || report.unchecked.length)) await notifyWebhook(ctx, secrets, notify, reconcilePayload(lab.name, report));
    if (ctx.global.json) out.json({ drift, ...report });
    return report.clean ? 0 : 1;
  } catch (e) {
    return ansibleFailure(ctx, e);
  }
}
