import { readFile } from 'node:fs/promises';
import { ahlError, connectLab, manifestForChannel, readImageRecords, stateDir, writeJsonAtomic, type Host, type Lab, type Redactor, type Reporter, type Secrets } from '@ahl/core';
import { guestOf, serverGuests } from '@ahl/l1-image';
import type { L2Outcome, L2Plan } from '@ahl/l2-instantiate';
import { isConvergeError, systemHosts, type ConvergeError } from '@ahl/l3-system';
import { backupNow, backupStatus, backsUp, restoreWorkloads, workloadHosts } from '@ahl/l4-workload';
import { rememberBackupRuns, type Warn } from './records.js';
import { planRebuild, rebuildFile, REBUILD_PHASES, startRebuild, type RebuildPhase, type RebuildPlan, type RebuildRecord, type Snapshot } from './rebuild.js';
import { age } from './time.js';
import type { AnsibleHost } from './up.js';

/*
 * `ahl rebuild HOST` as a workflow: `prepareRebuild` reads what there is (the VM, the template its
 * channel points at, the last good backup, an unfinished rebuild's record) and plans; `runRebuild`
 * runs the phases not yet done, writing the record after each, and stops at the first that fails.
 * L2, L3 and L4 run through the given runners (the CLI's report progress); the backup and restore
 * report on `reporter`. Nothing is printed here.
 */

export interface RebuildEffects {
  readonly env: NodeJS.ProcessEnv;
  readonly redactor: Redactor;
  readonly reporter?: Reporter;
}

export interface PreparedRebuild {
  readonly host: Host;
  readonly plan: RebuildPlan;
  /** The unfinished rebuild carried on (`--resume`). */
  readonly record?: RebuildRecord;
  /** Where the record is kept: `.ahl/state/rebuild/HOST.json`. */
  readonly file: string;
  /** The template version the VM comes back from. */
  readonly template: string;
}

/** What there is now, and the plan; refuses (USAGE) a resume with nothing to resume, or a new rebuild over an unfinished one. */
export async function prepareRebuild(lab: Lab, secrets: Secrets, host: Host, o: RebuildEffects & { readonly resume: boolean }): Promise<PreparedRebuild> {
  const file = rebuildFile(stateDir(lab.root), host.name);
  const start = startRebuild(host.name, await readRecord(file), o.resume);
  if (start.kind === 'refused') throw ahlError('USAGE', { message: start.message, command: 'rebuild' });
  // Only an unfinished rebuild is carried on; a finished one's record is replaced when this one starts.
  const record = start.kind === 'resume' ? start.record : undefined;
  // What there is now: the VM (one API call), the template, the last good backup.
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
  const data = record?.snapshot ? ({ kind: 'fresh', snapshot: record.snapshot, paths: dataPaths(host) } as const) : await dataPlan(lab, host, Boolean(g), o);
  const plan = planRebuild({
    host: host.name,
    ...(g ? { vm: { vmid: g.vmid, node: g.node, power: g.status } } : {}),
    template: { ref: host.template.ref, version: record?.template ?? manifest.version },
    data,
    ...(record ? { record } : {}),
  });
  return { host, plan, ...(record ? { record } : {}), file, template: manifest.version };
}

/** The layers' runners as a rebuild calls them, each for the one host. */
export interface RebuildRunners {
  l2(o: { hosts: readonly string[]; approve: boolean | ((plan: L2Plan) => boolean); replace?: boolean }): Promise<L2Outcome>;
  system(o: { targets: string[]; check: false; waitHosts: readonly string[] }): Promise<readonly AnsibleHost[]>;
  workload(o: { targets: string[]; check: false; approve: false }): Promise<readonly AnsibleHost[]>;
  /** Ansible could not complete a phase's run, before the phase fails (the CLI prints Ansible's output). */
  ansibleFailed?(e: ConvergeError): Promise<void> | void;
}

export interface RebuildRunOptions extends RebuildEffects {
  readonly runners: RebuildRunners;
  readonly warn: Warn;
  /** Stop after this phase as a failure would (AHL_REBUILD_FAIL_AFTER: drills and tests). */
  readonly failAfter?: RebuildPhase;
  /** Checked between phases: an aborted run stops there, its record saying what was done. */
  readonly signal?: AbortSignal;
  /** A phase starts (no outcome yet), ends (`ms`), or fails (`failure`). */
  readonly onPhase?: (e: { readonly phase: RebuildPhase; readonly ms?: number; readonly failure?: string }) => void;
  readonly now?: () => Date;
}

export interface RebuildRun {
  /** Every phase done; false when one failed (the record says which, and `--resume` carries on). */
  readonly ok: boolean;
  /** Stopped by the signal between phases. */
  readonly aborted: boolean;
  readonly record: RebuildRecord;
}

/** The phases of a prepared rebuild that are not done yet, in order, the record written after each. */
export async function runRebuild(lab: Lab, p: PreparedRebuild, o: RebuildRunOptions): Promise<RebuildRun> {
  const now = o.now ?? (() => new Date());
  const { plan, file, host } = p;
  const data = plan.data;
  const rec: RebuildRecord = p.record ?? { host: host.name, startedAt: now().toISOString(), template: p.template, done: [], ...(data.kind === 'fresh' ? { snapshot: data.snapshot } : {}) };
  delete rec.failed;
  await writeJsonAtomic(file, rec);
  for (const { phase } of plan.phases) {
    if (rec.done.includes(phase)) continue;
    if (o.signal?.aborted) break;
    o.onPhase?.({ phase });
    let failure: string | undefined;
    const t0 = Date.now();
    try {
      failure = await PHASES[phase](lab, host, rec, o);
    } catch (e) {
      if (isConvergeError(e) && e.code === 'ANSIBLE_FAILED') await o.runners.ansibleFailed?.(e);
      failure = (e as Error).message;
    }
    rec.took = { ...rec.took, [phase]: Date.now() - t0 };
    if (!failure && o.failAfter === phase) failure = `stopped after ${phase} (AHL_REBUILD_FAIL_AFTER)`;
    if (!failure || o.failAfter === phase) rec.done.push(phase);
    if (failure) {
      const next = REBUILD_PHASES.find((x) => plan.phases.some((y) => y.phase === x) && !rec.done.includes(x)) ?? phase;
      rec.failed = { phase: next, message: failure, at: now().toISOString() };
      await writeJsonAtomic(file, rec);
      o.onPhase?.({ phase, failure });
      return { ok: false, aborted: false, record: rec };
    }
    await writeJsonAtomic(file, rec);
    o.onPhase?.({ phase, ms: rec.took[phase]! });
  }
  if (o.signal?.aborted) return { ok: false, aborted: true, record: rec };
  rec.finishedAt = now().toISOString();
  await writeJsonAtomic(file, rec);
  return { ok: true, aborted: false, record: rec };
}

type PhaseRun = (lab: Lab, host: Host, rec: RebuildRecord, o: RebuildRunOptions) => Promise<string | undefined>;

const effects = (o: RebuildEffects) => ({ redactor: o.redactor, env: o.env, ...(o.reporter ? { reporter: o.reporter } : {}) });
const snapshotOf = (r: { id: string; time: string; finished?: string; size?: number; digest?: string }): Snapshot => ({
  id: r.id,
  time: r.finished ?? r.time,
  ...(r.size !== undefined ? { size: r.size } : {}),
  ...(r.digest ? { digest: r.digest } : {}),
});

/** Each phase: undefined when it succeeded, else why it failed. */
const PHASES: Record<RebuildPhase, PhaseRun> = {
  async backup(lab, host, rec, o) {
    const r = await backupNow(lab, { targets: [host.name], ...effects(o) });
    const h = r.hosts[0];
    await rememberBackupRuns(o.warn, lab.root, r.hosts);
    if (h?.status !== 'ok' || !h.record) return `the backup failed: ${h?.message ?? 'no record'}`;
    rec.snapshot = snapshotOf(h.record);
    return undefined;
  },

  async recreate(_lab, host, _rec, o) {
    // A VM that is not in Terraform's state yet is adopted first, so the replacement destroys it.
    const first = await o.runners.l2({ hosts: [host.name], approve: (p) => p.summary.hosts.some((h) => h.adopt) && p.summary.hosts.every((h) => h.action === 'no-op' || h.action === 'update') });
    const exists = first.plan.summary.hosts.some((h) => h.action !== 'create');
    const r = await o.runners.l2({ hosts: [host.name], approve: true, ...(exists ? { replace: true } : {}) });
    const h = r.applied?.hosts.find((x) => x.host === host.name);
    return h?.state === 'done' ? undefined : `Terraform did not ${exists ? 'replace' : 'create'} the VM`;
  },

  async system(lab, host, _rec, o) {
    if (!systemHosts(lab).some((h) => h.name === host.name)) return undefined;
    const h = (await o.runners.system({ targets: [host.name], check: false, waitHosts: [host.name] }))[0];
    return h && (h.status === 'ok' || h.status === 'changed') ? undefined : `the system converge ${h?.status ?? 'did not run'}${h?.unreachable ? `: ${h.unreachable.split('\n')[0]}` : ''}`;
  },

  async restore(lab, host, rec, o) {
    const r = await restoreWorkloads(lab, { targets: [host.name], ...(rec.snapshot ? { snapshot: rec.snapshot.id } : {}), ...effects(o) });
    const h = r.hosts[0];
    return h?.status === 'ok' ? undefined : `the restore ${h?.status ?? 'did not run'}${h?.message ? `: ${h.message.split('\n')[0]}` : ''}`;
  },

  async workload(lab, host, _rec, o) {
    if (!workloadHosts(lab).some((h) => h.name === host.name)) return undefined;
    const h = (await o.runners.workload({ targets: [host.name], check: false, approve: false }))[0];
    return h && (h.status === 'ok' || h.status === 'changed') ? undefined : `the stacks are not healthy: ${h?.status ?? 'not deployed'}`;
  },
};

function dataPaths(host: Host): string[] {
  return host.workloads.flatMap((w) => w.data.filter((d) => d.backup).map((d) => d.path));
}

/** Whether the host has data, and whether its last good backup is fresh enough to restore from. */
async function dataPlan(lab: Lab, host: Host, exists: boolean, o: RebuildEffects): Promise<RebuildPlan['data']> {
  if (!backsUp(host) || !lab.config.backup) return { kind: 'none' };
  const paths = dataPaths(host);
  if (!exists) return { kind: 'take', why: 'the VM does not exist: there is nothing to back up, and no record was read', paths };
  const s = (await backupStatus(lab, { targets: [host.name], ...effects(o) })).hosts[0];
  if (s?.fresh && s.last) return { kind: 'fresh', snapshot: snapshotOf(s.last), paths };
  return { kind: 'take', why: s?.last ? `the last good one, ${s.last.id}, is ${s.ageMs === undefined ? 'of unknown age' : age(s.ageMs)} old; maxAge ${s.maxAge}` : s?.status === 'ok' ? 'there is none' : `its records could not be read: ${s?.message?.split('\n')[0] ?? 'unknown'}`, paths };
}

async function readRecord(file: string): Promise<RebuildRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as RebuildRecord;
  } catch {
    return undefined;
  }
}
