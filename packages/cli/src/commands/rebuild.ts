import type { CommandDef } from '../command.js';
import type { RebuildPhase } from '@ahl/ops';
import { printAnsibleFailure } from '../runs/ansible.js';
import { l2Run, systemRun, workloadRun } from '../runs/layers.js';
import { loadValidLab } from '../runs/lab-root.js';

export const rebuildCommand: CommandDef = {
  name: 'rebuild',
  summary: 'rebuild a host from intent: back up, destroy, recreate from the current template, converge, restore its data',
  description:
    'Rebuild over mutation. The plan says what is destroyed (the VM and its disks), which template it comes back from\n' +
    '(the one its channel points at now) and which backup its data comes back from. The last good backup must be\n' +
    'fresher than the persona\'s backup.maxAge; otherwise one is taken first. With --approve, in order: back up (if\n' +
    'needed), destroy and recreate the VM with Terraform, converge the system once it has booted, restore the data,\n' +
    'deploy the stacks and wait until they are healthy. Each phase is recorded in .ahl/state/rebuild/HOST.json as it\n' +
    'ends: a failure midway stops there, says why, and `ahl rebuild HOST --resume --approve` carries on from the\n' +
    'phase that failed, with the same backup. A rebuild that finished is not carried on: the next --approve rebuilds\n' +
    'again, with its own plan and backup. ahl never deletes a backup. AHL_REBUILD_FAIL_AFTER=PHASE stops a rebuild\n' +
    'after that phase, as a failure would (for drills and tests).\n' +
    'Exit status: 0 planned or rebuilt; 1 a phase failed (resumable); 2 ahl could not run.',
  positionals: [{ name: 'HOST', description: 'the host to rebuild (a VM)' }],
  options: [
    { name: 'approve', type: 'boolean', description: 'rebuild; without it only the plan is shown' },
    { name: 'resume', type: 'boolean', description: 'carry on an unfinished rebuild from the phase that failed' },
  ],
  locks: (o) => Boolean(o.approve),
  examples: [
    { command: 'ahl rebuild docker-01', description: 'what a rebuild would destroy, recreate and restore (changes nothing)' },
    { command: 'ahl rebuild docker-01 --approve', description: 'rebuild it' },
    { command: 'ahl rebuild docker-01 --resume --approve', description: 'finish a rebuild that stopped midway' },
  ],
  async run(ctx) {
    const { ahlError, selectTargets, vmHosts } = await import('@ahl/core');
    const { prepareRebuild, runRebuild, seconds } = await import('@ahl/ops');
    const { renderRebuildPlan } = await import('../views/rebuild.js');
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
  },
};
