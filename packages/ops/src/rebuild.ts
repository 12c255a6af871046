import { join } from 'node:path';

/*
 * `ahl rebuild HOST`: rebuild over mutation. The phases run in order, each recorded when done, so a
 * failure midway leaves a record that `--resume` carries on from; the backup the rebuild restores
 * from is chosen once, recorded, and never deleted. The plan is pure.
 */

export const REBUILD_PHASES = ['backup', 'recreate', 'system', 'restore', 'workload'] as const;
export type RebuildPhase = (typeof REBUILD_PHASES)[number];

export interface Snapshot {
  readonly id: string;
  readonly time: string;
  readonly size?: number;
  readonly digest?: string;
}

/** What this machine keeps of a rebuild in progress: `.ahl/state/rebuild/HOST.json`. */
export interface RebuildRecord {
  readonly host: string;
  readonly startedAt: string;
  /** The backup the data comes back from (absent for a host with no data to back up). */
  snapshot?: Snapshot;
  /** The template version the VM is recreated from. */
  readonly template: string;
  done: RebuildPhase[];
  /** How long each phase ran, in ms (the last attempt of a phase that was resumed). */
  took?: Partial<Record<RebuildPhase, number>>;
  failed?: { readonly phase: RebuildPhase; readonly message: string; readonly at: string };
  finishedAt?: string;
}

export const rebuildFile = (stateDir: string, host: string) => join(stateDir, 'rebuild', `${host}.json`);

/**
 * How `ahl rebuild HOST` starts, given the record this machine keeps and --resume: a new rebuild,
 * the unfinished one carried on, or a refusal saying why. A finished rebuild's record (every phase
 * done, `finishedAt` set) is history: it is never carried on, so a new rebuild plans afresh. Pure.
 */
export type RebuildStart =
  | { readonly kind: 'new' }
  | { readonly kind: 'resume'; readonly record: RebuildRecord }
  | { readonly kind: 'refused'; readonly message: string };

export function startRebuild(host: string, record: RebuildRecord | undefined, resume: boolean): RebuildStart {
  const unfinished = record && record.finishedAt === undefined ? record : undefined;
  if (resume && unfinished) return { kind: 'resume', record: unfinished };
  if (resume) {
    const last = record?.finishedAt ? `: the last one finished at ${record.finishedAt}; \`ahl rebuild ${host} --approve\` starts a new one` : '';
    return { kind: 'refused', message: `there is no unfinished rebuild of ${host} to resume${last}` };
  }
  if (unfinished) {
    const state = unfinished.failed ? `${unfinished.failed.phase} failed: ${unfinished.failed.message}` : `done: ${unfinished.done.join(', ') || 'nothing yet'}`;
    return { kind: 'refused', message: `a rebuild of ${host} is unfinished (${state}); carry it on with --resume` };
  }
  return { kind: 'new' };
}

export interface RebuildPlan {
  readonly host: string;
  /** The VM to destroy, when it exists. */
  readonly vm?: { readonly vmid: number; readonly node: string; readonly power: string };
  /** The template ref and the version its channel points at now. */
  readonly template: { readonly ref: string; readonly version: string };
  /** Data: none to back up; a fresh backup to restore; or a backup to take first. */
  readonly data:
    | { readonly kind: 'none' }
    | { readonly kind: 'fresh'; readonly snapshot: Snapshot; readonly paths: readonly string[] }
    | { readonly kind: 'take'; readonly why: string; readonly paths: readonly string[] };
  readonly phases: readonly { readonly phase: RebuildPhase; readonly what: string; readonly done: boolean }[];
}

/** The phases of a rebuild and what each does, those already done (on resume) marked. Pure. */
export function planRebuild(input: {
  host: string;
  vm?: RebuildPlan['vm'];
  template: RebuildPlan['template'];
  data: RebuildPlan['data'];
  record?: RebuildRecord;
}): RebuildPlan {
  const { host, vm, template, data, record } = input;
  const snap = record?.snapshot ?? (data.kind === 'fresh' ? data.snapshot : undefined);
  const what: Record<RebuildPhase, string | undefined> = {
    backup: data.kind === 'take' ? `back up ${data.paths.join(', ')} now (${data.why})` : undefined,
    recreate: `${vm ? `destroy vmid ${vm.vmid} on ${vm.node} (${vm.power}) with its disks, then ` : ''}create it again from ${template.ref} (${template.version})`,
    system: 'converge the system (L3), once it has booted',
    restore: data.kind === 'none' && !snap ? undefined : `restore ${snap ? `backup ${snap.id} (${snap.time}${snap.size !== undefined ? `, ${snap.size} bytes` : ''})` : 'the backup taken first'} into ${data.kind === 'none' ? 'its data' : data.paths.join(', ')}`,
    workload: 'deploy the stacks (L4) and wait until they are healthy',
  };
  const done = new Set(record?.done ?? []);
  return {
    host,
    ...(vm ? { vm } : {}),
    template,
    data,
    phases: REBUILD_PHASES.filter((p) => what[p] !== undefined).map((p) => ({ phase: p, what: what[p]!, done: done.has(p) })),
  };
}
