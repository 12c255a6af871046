import { ahlError, connectLab, selectTargets } from '@ahl/core';
import { runRunway } from '@ahl/l0-runway';
import { runUp, runwayTrouble } from '@ahl/ops';
import type { CommandContext } from '../command.js';
import { VERSION } from '../main.js';
import { printAnsibleFailure } from '../runs/ansible.js';
import { progressReporter } from '../runs/image.js';
import { loadValidLab } from '../runs/lab-root.js';
import { l2Run, systemRun, workloadRun } from '../runs/layers.js';
import { renderUp, renderUpMarkdown } from '../views/up.js';

/** `ahl up` (and `ahl plan`, which never applies): the layers in order, each reported as it ends. */
export async function up(ctx: CommandContext, approve: boolean): Promise<number> {
  const { out } = ctx;
  const format = ctx.options.format ?? 'text';
  if (format !== 'text' && format !== 'markdown') throw ahlError('USAGE', { message: `unknown format "${String(format)}"; expected text or markdown`, command: approve ? 'up' : 'plan' });
  const lab = await loadValidLab(ctx);
  const selected = selectTargets(lab, lab.hosts, ctx.positionals, { command: 'up' });
  const secrets = await ctx.secrets(lab.root);
  const client = await connectLab(lab.config, secrets, lab.root);
  let run;
  try {
    run = await runUp(lab, selected, {
      approve,
      client,
      secrets,
      toolVersion: VERSION,
      reporter: progressReporter(out),
      warn: out.warn,
      signal: ctx.signal,
      onLayer: ({ layer, name, step }) => {
        const s = step?.state;
        if (!s) out.progress({ step: `${layer} ${name}`, status: 'start' }, out.style('bold', `${layer} ${name}`));
        else out.progress({ step: `${layer} ${name}`, status: s === 'failed' || s === 'blocked' ? 'failed' : s === 'done' ? 'changed' : 'ok', detail: s }, undefined);
      },
      runners: {
        async runway(l, c) {
          const r = await runRunway(l, c);
          // A person sees what is not PASS; the full report is `ahl runway`.
          for (const x of runwayTrouble(r)) out.line(`  ${out.style(x.status === 'FAIL' ? 'red' : 'yellow', x.status)} ${x.id}: ${x.reason}${x.hint ? out.style('dim', ` (${x.hint})`) : ''}`, x.status === 'FAIL' ? 'error' : 'warn');
          return r;
        },
        l2: (o) => l2Run(ctx, lab, secrets, o),
        system: async (o) => (await systemRun(ctx, lab, secrets, o, false)).result.hosts,
        workload: async (o) => (await workloadRun(ctx, lab, secrets, o, false)).result.hosts,
        ansibleFailed: async (e) => void (await printAnsibleFailure(ctx, e)),
      },
    });
  } finally {
    await client.close();
  }
  if (format === 'markdown') out.result(renderUpMarkdown(lab.name, run.layers, approve, ctx.positionals[0]));
  else out.report(renderUp(run.layers, approve, (s, t) => out.style(s, t)).trimEnd());
  if (ctx.global.json && format !== 'markdown') out.json(run);
  return run.ok ? 0 : 1;
}
