import type { Lab, Secrets } from '@ahl/core';
import type { CommandContext, CommandDef } from '../command.js';
import type { ReconcileOutcome } from '@ahl/ops';
import { loadValidLab } from '../runs/lab-root.js';
import { LAYER_OPTION } from '../runs/drift.js';

/** A safe L2 step: Terraform's targeted apply, only if its plan neither replaces nor destroys a VM. */
async function applyInPlace(ctx: CommandContext, lab: Lab, secrets: Secrets, hosts: readonly string[]): Promise<ReconcileOutcome[]> {
  const { l2Run } = await import('../runs/layers.js');
  const { changeText } = await import('../views/instances.js');
  try {
    const r = await l2Run(ctx, lab, secrets, { hosts, approve: (p) => p.summary.hosts.every((h) => h.action === 'update' || h.action === 'no-op') });
    return r.plan.summary.hosts.map((h) => {
      const done = r.applied?.hosts.find((a) => a.host === h.host);
      if (done?.state === 'done' || (h.adopt && r.applied)) return { layer: 'L2', host: h.host, result: 'reconciled', detail: h.changes.map(changeText).join('; ') || 'adopted' };
      if (!r.applied && h.action !== 'no-op') return { layer: 'L2', host: h.host, result: 'awaiting approval', detail: `Terraform would ${h.action} it: ahl apply ${h.host}` };
      return { layer: 'L2', host: h.host, result: h.action === 'no-op' ? 'reconciled' : 'failed', detail: h.action === 'no-op' ? 'nothing left to change' : 'not applied' };
    });
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    return hosts.map((host) => ({ layer: 'L2', host, result: 'failed', detail: (e as Error).message }));
  }
}

export const reconcileCommand: CommandDef = {
  name: 'reconcile',
  summary: 'drift, then put back what is safe (VM settings, L3 and L4 converges, in place); anything destructive waits for approval',
  description:
    'Runs `ahl drift` on the selected hosts (one status call, Terraform\'s plan of the VMs, then the L3 and L4 playbooks with\n' +
    '--check) and makes what reconciles the findings where it is safe: a Terraform apply of VMs whose settings changed\n' +
    '(in place: memory, cores, tags…), `converge system` for OS drift, then `converge workload` for stack drift (a stack no\n' +
    'longer declared is never removed here). A VM to create or replace, a passthrough disk, or a rebuild for a template\n' +
    'that moved on is listed as awaiting approval and not made. --plan shows the steps and changes nothing. Meant for a\n' +
    'timer as well as a terminal: --notify REF posts the outcome as JSON to a webhook whenever something was found\n' +
    '(REF is a secret reference to the URL). The payload: {"lab", "at", "clean", "summary", "reconciled": [{"layer",\n' +
    '"host", "detail"}], "awaitingApproval": [...], "failed": [...], "unchecked": [{"layer", "host", "reason"}]}.\n' +
    'Exit status: 0 nothing drifted or everything was reconciled; 1 something awaits approval, failed or could not be\n' +
    'checked (or, with --plan, there is something to do); 2 ahl could not run.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: all)' }],
  options: [
    LAYER_OPTION,
    { name: 'plan', type: 'boolean', description: 'show what would be made; change nothing' },
    { name: 'notify', type: 'string', value: 'REF', description: 'post the outcome to the webhook URL this secret reference holds, when something was found' },
  ],
  locks: (o) => !o.plan,
  examples: [
    { command: 'ahl reconcile --plan', description: 'what reconcile would make, and what would wait for approval' },
    { command: 'ahl reconcile docker --layer L4', description: 'put the docker hosts\' stacks back as declared' },
    { command: 'ahl reconcile --notify env:AHL_WEBHOOK', description: 'from a timer: reconcile, and tell a webhook what happened' },
  ],
  async run(ctx) {
    const { buildReconcile, planReconcile, postJson, reconcilePayload } = await import('@ahl/ops');
    const { renderReconcile } = await import('../views/reconcile.js');
    const { renderDrift } = await import('../views/drift.js');
    const { checkDrift, driftOptions } = await import('../runs/drift.js');
    const { ansibleFailure } = await import('../runs/ansible.js');
    const { out } = ctx;
    const { layers, notify } = await driftOptions(ctx, 'reconcile');
    const apply = !ctx.options.plan;
    const lab = await loadValidLab(ctx);
    const secrets = await ctx.secrets(lab.root);
    try {
      const drift = await checkDrift(ctx, lab, secrets, layers, 'reconcile');
      if (drift.findings.length) out.line(renderDrift(drift, (s, t) => out.style(s, t)).trimEnd());
      const steps = planReconcile(drift);
      const outcomes: { layer: 'L1' | 'L2' | 'L3' | 'L4'; host: string; result: 'reconciled' | 'awaiting approval' | 'failed'; detail: string }[] = [];
      const opts = { redactor: secrets.redactor, env: ctx.env, reporter: out.reporter(undefined, (m) => out.style('dim', m)) };
      for (const step of steps) {
        ctx.signal?.throwIfAborted();
        if (!step.safe) {
          for (const host of step.hosts) outcomes.push({ layer: step.layer, host, result: 'awaiting approval', detail: `ahl ${step.command} ${host}` });
          continue;
        }
        if (!apply) continue;
        if (step.layer === 'L2') {
          outcomes.push(...(await applyInPlace(ctx, lab, secrets, step.hosts)));
          continue;
        }
        const r =
          step.layer === 'L3'
            ? await (await import('@ahl/l3-system')).convergeSystem(lab, { ...opts, targets: [...step.hosts] })
            : await (await import('@ahl/l4-workload')).deployWorkloads(lab, { ...opts, secrets, targets: [...step.hosts] });
        await (await import('@ahl/ops')).rememberLayer(ctx.out.warn, lab, step.layer === 'L3' ? 'system' : 'workload', false, r.hosts);
        for (const h of r.hosts) {
          const ok = h.status === 'ok' || h.status === 'changed';
          const detail = ok ? `${h.changed.length} change${h.changed.length === 1 ? '' : 's'} made` : h.status === 'unreachable' ? `unreachable: ${(h.unreachable ?? '').split('\n')[0]}` : h.failed.map((f) => `${f.task}: ${f.message.split('\n')[0]}`).join('; ');
          outcomes.push({ layer: step.layer, host: h.host, result: ok ? 'reconciled' : 'failed', detail });
        }
      }
      const report = buildReconcile(drift, steps, outcomes, apply, new Date());
      out.report(renderReconcile(report, (s, t) => out.style(s, t)).trimEnd());
      if (typeof notify === 'string' && (steps.length || report.unchecked.length)) {
        const sent = await postJson(secrets.resolve(notify, '--notify'), reconcilePayload(lab.name, report));
        out.line(sent.ok ? out.style('dim', `notified the webhook (${sent.status})`) : out.style('yellow', `! the webhook was not notified: ${secrets.redactor.redact(sent.error)}`));
      }
      if (ctx.global.json) out.json({ drift, ...report });
      return report.clean ? 0 : 1;
    } catch (e) {
      return ansibleFailure(ctx, e);
    }
  },
};
