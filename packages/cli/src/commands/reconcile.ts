import type { CommandDef } from '../command.js';
import { loadValidLab } from '../runs/lab-root.js';
import { LAYER_OPTION } from '../runs/drift.js';

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
    const { buildReconcile, planReconcile, postJson, reconcilePayload, runReconcile } = await import('@ahl/ops');
    const { l2Run } = await import('../runs/layers.js');
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
