import { ahlError, selectTargets, vmHosts } from '@ahl/core';
import { prepareRebuild, type RebuildPhase, runRebuild, seconds } from '@ahl/ops';
import type { CommandContext } from '../command.js';
import { printAnsibleFailure } from '../runs/ansible.js';
import { loadValidLab } from '../runs/lab-root.js';
import { l2Run, systemRun, workloadRun } from '../runs/layers.js';
import { renderRebuildPlan } from '../views/rebuild.js';

/** `ahl rebuild`. */
export async function rebuild(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const lab = await loadValidLab(ctx);
  const [host] = selectTargets(lab, vmHosts(lab), ctx.positionals, { command: 'rebuild', unmanaged: 'is bare metal: it has no VM to rebuild' });
  if (!host || ctx.positionals.length !== 1 || host.name !== ctx.positionals[0])
    throw ahlError('USAGE', { message: 'name one host to rebuild (a persona or group would rebuild several at once)', command: 'rebuild' });
  const approve = Boolean(ctx.options.approve);
  const resume = Boolean(ctx.options.resume);
  const secrets = await ctx.secrets(lab.root);
  const effects = { redactor: secrets.redactor, env: ctx.env, reporter: out.reporter() };
  const prepared = await prepareRebuild(lab, secrets, host, { ...effects, resume });
  const { plan } = prepared;
  out.report(renderRebuildPlan(plan, resume, (s, t) => out.style(s, t)).trimEnd());
  if (!approve) {
    out.warn('nothing was changed (--approve to rebuild)');
    if (ctx.global.json) out.json({ approved: false, plan });
    return 0;
  }
  const failAfter = ctx.env.AHL_REBUILD_FAIL_AFTER as RebuildPhase | undefined;
  const run = await runRebuild(lab, prepared, {
    ...effects,
    warn: out.warn,
    signal: ctx.signal,
    ...(failAfter ? { failAfter } : {}),
    runners: {
      l2: (o) => l2Run(ctx, lab, secrets, o),
      system: async (o) => (await systemRun(ctx, lab, secrets, o, false)).result.hosts,
      workload: async (o) => (await workloadRun(ctx, lab, secrets, o, false)).result.hosts,
      ansibleFailed: async (e) => void (await printAnsibleFailure(ctx, e)),
    },
    onPhase: ({ phase, ms, failure }) => {
      if (failure) out.progress({ step: phase, target: host.name, status: 'failed', detail: failure }, out.style('red', `✗ ${phase}: ${failure}`));
      else if (ms !== undefined) out.progress({ step: phase, target: host.name, status: 'changed', detail: seconds(ms) }, `${out.style('green', `✓ ${phase}`)} ${out.style('dim', `(${seconds(ms)})`)}`);
      else out.progress({ step: phase, target: host.name, status: 'start' }, out.style('bold', `${phase}…`));
    },
  });
  const rec = run.record;
  if (run.aborted) return 130;
  if (!run.ok) {
    out.line(out.style('red', `the rebuild of ${host.name} stopped; done: ${rec.done.join(', ') || 'nothing'}. ${rec.snapshot ? `Its data is safe in backup ${rec.snapshot.id}. ` : ''}Fix the cause, then: ahl rebuild ${host.name} --resume --approve`), 'error');
    if (ctx.global.json) out.json({ approved: true, ok: false, record: rec });
    return 1;
  }
  out.line(out.style('green', `rebuilt ${host.name} from ${host.template.ref} (${rec.template})${rec.snapshot ? `, data from backup ${rec.snapshot.id}` : ''}; its stacks are healthy`));
  if (ctx.global.json) out.json({ approved: true, ok: true, record: rec });
  return 0;
}
