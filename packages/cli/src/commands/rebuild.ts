import type { Host, Lab, Secrets } from '@ahl/core';
import type { CommandContext, CommandDef } from '../command.js';
import type { RebuildPhase, RebuildPlan, RebuildRecord } from '@ahl/ops';
import { seconds } from '../time.js';
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
    const { ahlError, connectLab, selectTargets, stateDir, vmHosts, writeJsonAtomic } = await import('@ahl/core');
    const { planRebuild, rebuildFile, startRebuild, REBUILD_PHASES } = await import('@ahl/ops');
    const { renderRebuildPlan } = await import('../views/rebuild.js');
    const { out } = ctx;
    const lab = await loadValidLab(ctx);
    const [host] = selectTargets(lab, vmHosts(lab), ctx.positionals, { command: 'rebuild', unmanaged: 'is bare metal: it has no VM to rebuild' });
    if (!host || ctx.positionals.length !== 1 || host.name !== ctx.positionals[0])
      throw ahlError('USAGE', { message: 'name one host to rebuild (a persona or group would rebuild several at once)', command: 'rebuild' });
    const approve = Boolean(ctx.options.approve);
    const resume = Boolean(ctx.options.resume);
    const file = rebuildFile(stateDir(lab.root), host.name);
    const start = startRebuild(host.name, await readRecord(file), resume);
    if (start.kind === 'refused') throw ahlError('USAGE', { message: start.message, command: 'rebuild' });
    // Only an unfinished rebuild is carried on; a finished one's record is replaced when this one starts.
    const record = start.kind === 'resume' ? start.record : undefined;
    const secrets = await ctx.secrets(lab.root);

    // What there is now: the VM (one API call), the template, the last good backup.
    const { guestOf, serverGuests } = await import('@ahl/l1-image');
    const { manifestForChannel, readImageRecords } = await import('@ahl/core');
    const client = await connectLab(lab.config, secrets, lab.root);
    let guests;
    try {
      guests = await serverGuests(client);
    } finally {
      await client.close();
    }
    const g = guestOf(host, guests);
    const manifest = manifestForChannel(await readImageRecords(lab.recordsRoot, host.template.image), host.template.channel);
    if (!manifest) throw ahlError('TEMPLATE_UNBUILT', { ref: host.template.ref, image: host.template.image });
    const data = record?.snapshot ? ({ kind: 'fresh', snapshot: record.snapshot, paths: dataPaths(host) } as const) : await dataPlan(ctx, lab, secrets, host, Boolean(g));
    const plan = planRebuild({
      host: host.name,
      ...(g ? { vm: { vmid: g.vmid, node: g.node, power: g.status } } : {}),
      template: { ref: host.template.ref, version: record?.template ?? manifest.version },
      data,
      ...(record ? { record } : {}),
    });
    out.report(renderRebuildPlan(plan, resume, (s, t) => out.style(s, t)).trimEnd());
    if (!approve) {
      out.warn('nothing was changed (--approve to rebuild)');
      if (ctx.global.json) out.json({ approved: false, plan });
      return 0;
    }

    const rec: RebuildRecord = record ?? { host: host.name, startedAt: new Date().toISOString(), template: manifest.version, done: [], ...(data.kind === 'fresh' ? { snapshot: data.snapshot } : {}) };
    delete rec.failed;
    await writeJsonAtomic(file, rec);
    const failAfter = ctx.env.AHL_REBUILD_FAIL_AFTER as RebuildPhase | undefined;
    for (const { phase } of plan.phases) {
      if (rec.done.includes(phase)) continue;
      if (ctx.signal.aborted) break;
      out.progress({ step: phase, target: host.name, status: 'start' }, out.style('bold', `${phase}…`));
      let failure: string | undefined;
      const t0 = Date.now();
      try {
        failure = await PHASES[phase](ctx, lab, secrets, host, rec);
      } catch (e) {
        const err = (e as { code?: string }).code === 'ANSIBLE_FAILED' ? await printAnsibleFailure(ctx, e) : (e as Error);
        failure = err.message;
      }
      rec.took = { ...rec.took, [phase]: Date.now() - t0 };
      if (!failure && failAfter === phase) failure = `stopped after ${phase} (AHL_REBUILD_FAIL_AFTER)`;
      if (!failure || failAfter === phase) rec.done.push(phase);
      if (failure) {
        const next = REBUILD_PHASES.find((p) => plan.phases.some((x) => x.phase === p) && !rec.done.includes(p)) ?? phase;
        rec.failed = { phase: next, message: failure, at: new Date().toISOString() };
        await writeJsonAtomic(file, rec);
        out.progress({ step: phase, target: host.name, status: 'failed', detail: failure }, out.style('red', `✗ ${phase}: ${failure}`));
        out.line(out.style('red', `the rebuild of ${host.name} stopped; done: ${rec.done.join(', ') || 'nothing'}. ${rec.snapshot ? `Its data is safe in backup ${rec.snapshot.id}. ` : ''}Fix the cause, then: ahl rebuild ${host.name} --resume --approve`), 'error');
        if (ctx.global.json) out.json({ approved: true, ok: false, record: rec });
        return 1;
      }
      await writeJsonAtomic(file, rec);
      out.progress({ step: phase, target: host.name, status: 'changed', detail: seconds(rec.took[phase]) }, `${out.style('green', `✓ ${phase}`)} ${out.style('dim', `(${seconds(rec.took[phase])})`)}`);
    }
    if (ctx.signal.aborted) return 130;
    rec.finishedAt = new Date().toISOString();
    await writeJsonAtomic(file, rec);
    out.line(out.style('green', `rebuilt ${host.name} from ${host.template.ref} (${rec.template})${rec.snapshot ? `, data from backup ${rec.snapshot.id}` : ''}; its stacks are healthy`));
    if (ctx.global.json) out.json({ approved: true, ok: true, record: rec });
    return 0;
  },
};

type PhaseRun = (ctx: CommandContext, lab: Lab, secrets: Secrets, host: Host, rec: RebuildRecord) => Promise<string | undefined>;

/** Each phase: undefined when it succeeded, else why it failed. */
const PHASES: Record<RebuildPhase, PhaseRun> = {
  async backup(ctx, lab, secrets, host, rec) {
    const { backupNow } = await import('@ahl/l4-workload');
    const r = await backupNow(lab, { targets: [host.name], redactor: secrets.redactor, env: ctx.env, reporter: ctx.out.reporter() });
    const h = r.hosts[0];
    await (await import('@ahl/ops')).rememberBackupRuns(ctx.out.warn, lab.root, r.hosts);
    if (h?.status !== 'ok' || !h.record) return `the backup failed: ${h?.message ?? 'no record'}`;
    rec.snapshot = { id: h.record.id, time: h.record.finished ?? h.record.time, ...(h.record.size !== undefined ? { size: h.record.size } : {}), ...(h.record.digest ? { digest: h.record.digest } : {}) };
    return undefined;
  },

  async recreate(ctx, lab, secrets, host) {
    // A VM that is not in Terraform's state yet is adopted first, so the replacement destroys it.
    const first = await l2Run(ctx, lab, secrets, { hosts: [host.name], approve: (p) => p.summary.hosts.some((h) => h.adopt) && p.summary.hosts.every((h) => h.action === 'no-op' || h.action === 'update') });
    const exists = first.plan.summary.hosts.some((h) => h.action !== 'create');
    const r = await l2Run(ctx, lab, secrets, { hosts: [host.name], approve: true, ...(exists ? { replace: true } : {}) });
    const h = r.applied?.hosts.find((x) => x.host === host.name);
    return h?.state === 'done' ? undefined : `Terraform did not ${exists ? 'replace' : 'create'} the VM`;
  },

  async system(ctx, lab, secrets, host) {
    const { systemHosts } = await import('@ahl/l3-system');
    if (!systemHosts(lab).some((h) => h.name === host.name)) return undefined;
    const { result } = await systemRun(ctx, lab, secrets, { targets: [host.name], check: false, waitHosts: [host.name] }, false);
    const h = result.hosts[0];
    return h && (h.status === 'ok' || h.status === 'changed') ? undefined : `the system converge ${h?.status ?? 'did not run'}${h?.unreachable ? `: ${h.unreachable.split('\n')[0]}` : ''}`;
  },

  async restore(ctx, lab, secrets, host, rec) {
    const { restoreWorkloads } = await import('@ahl/l4-workload');
    const r = await restoreWorkloads(lab, { targets: [host.name], ...(rec.snapshot ? { snapshot: rec.snapshot.id } : {}), redactor: secrets.redactor, env: ctx.env, reporter: ctx.out.reporter() });
    const h = r.hosts[0];
    return h?.status === 'ok' ? undefined : `the restore ${h?.status ?? 'did not run'}${h?.message ? `: ${h.message.split('\n')[0]}` : ''}`;
  },

  async workload(ctx, lab, secrets, host) {
    const { workloadHosts } = await import('@ahl/l4-workload');
    if (!workloadHosts(lab).some((h) => h.name === host.name)) return undefined;
    const { result } = await workloadRun(ctx, lab, secrets, { targets: [host.name], check: false, approve: false }, false);
    const h = result.hosts[0];
    return h && (h.status === 'ok' || h.status === 'changed') ? undefined : `the stacks are not healthy: ${h?.status ?? 'not deployed'}`;
  },
};

function dataPaths(host: Host): string[] {
  return host.workloads.flatMap((w) => w.data.filter((d) => d.backup).map((d) => d.path));
}

/** Whether the host has data, and whether its last good backup is fresh enough to restore from. */
async function dataPlan(ctx: CommandContext, lab: Lab, secrets: Secrets, host: Host, exists: boolean): Promise<RebuildPlan['data']> {
  const { backsUp } = await import('@ahl/l4-workload');
  if (!backsUp(host) || !lab.config.backup) return { kind: 'none' };
  const paths = dataPaths(host);
  if (!exists) return { kind: 'take', why: 'the VM does not exist: there is nothing to back up, and no record was read', paths };
  const { backupStatus } = await import('@ahl/l4-workload');
  const { ago } = await import('../time.js');
  const s = (await backupStatus(lab, { targets: [host.name], redactor: secrets.redactor, env: ctx.env, reporter: ctx.out.reporter() })).hosts[0];
  if (s?.fresh && s.last) return { kind: 'fresh', snapshot: { id: s.last.id, time: s.last.finished ?? s.last.time, ...(s.last.size !== undefined ? { size: s.last.size } : {}), ...(s.last.digest ? { digest: s.last.digest } : {}) }, paths };
  return { kind: 'take', why: s?.last ? `the last good one, ${s.last.id}, is ${ago(s.ageMs)} old; maxAge ${s.maxAge}` : s?.status === 'ok' ? 'there is none' : `its records could not be read: ${s?.message?.split('\n')[0] ?? 'unknown'}`, paths };
}

async function readRecord(file: string): Promise<RebuildRecord | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RebuildRecord;
  } catch {
    return undefined;
  }
}
