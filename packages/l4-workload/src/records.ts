import { ahlError } from '@ahl/core';

/*
 * What the content hands back, parsed. Pure: unit tests replay reports recorded from real runs.
 */

/** The record ahl-backup leaves on the host (last.json) and beside the snapshot (ID.json). */
export interface BackupRecord {
  readonly host: string;
  /** The snapshot id, a UTC timestamp like 20261126T031500Z. */
  readonly id: string;
  /** When the backup started (ISO 8601, UTC). */
  readonly time: string;
  readonly finished?: string;
  readonly status: 'ok' | 'failed';
  /** Bytes of data backed up. */
  readonly size?: number;
  readonly files?: number;
  /** sha256 over the sorted per-file sha256 list of the data: the same data gives the same digest. */
  readonly digest?: string;
  readonly paths?: readonly string[];
  readonly target: string;
  readonly exitCode?: number;
}

export interface RestoreRecord {
  readonly host: string;
  readonly id: string;
  readonly time: string;
  /** ok: the restored data has the snapshot's digest; mismatch: it has not. */
  readonly status: 'ok' | 'mismatch';
  readonly digest: string;
  readonly expected: string;
  /** Stacks that were stopped for the restore and started again. */
  readonly restarted: readonly string[];
}

/** The per-stack part of a deploy report. */
export interface StackReport {
  readonly name: string;
  /** A synced file changed (or, under --check, would). */
  readonly changed: boolean;
  /** recreate: files changed, containers recreated; up: a service was not running; none: untouched. */
  readonly action: 'recreate' | 'up' | 'none';
  /** `NAME STATUS HEALTH` of each container after the deploy. */
  readonly containers: readonly string[];
}

export interface DeployReport {
  readonly stacks: readonly StackReport[];
  /** Deployed stacks no longer declared. */
  readonly orphans: readonly string[];
  /** Of those, the ones removed (only with approval). */
  readonly removed: readonly string[];
  /** The Compose command found on the host: `docker compose` (v2) or `docker-compose` (v1). */
  readonly compose: string | null;
  /** Left alone (ahl up): the host recorded this very intent at its last deploy, and every stack runs. */
  readonly unchanged?: boolean;
}

/** The raw result of a script run the content reports (backup, restore, status). */
export interface ScriptReport {
  readonly rc: number;
  readonly stdout: string;
  readonly stderr: string;
}

function obj(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function parseDeployReport(text: string): DeployReport | undefined {
  const v = obj(text);
  if (!v || !Array.isArray(v.stacks)) return undefined;
  return {
    stacks: (v.stacks as StackReport[]).map((s) => ({ name: s.name, changed: Boolean(s.changed), action: s.action, containers: s.containers ?? [] })),
    orphans: (v.orphans as string[] | undefined) ?? [],
    removed: (v.removed as string[] | undefined) ?? [],
    compose: typeof v.compose === 'string' && v.compose ? v.compose : null,
    ...(v.unchanged === true ? { unchanged: true } : {}),
  };
}

export function parseScriptReport(text: string): ScriptReport | undefined {
  const v = obj(text);
  if (!v || typeof v.rc !== 'number') return undefined;
  return { rc: v.rc, stdout: String(v.stdout ?? ''), stderr: String(v.stderr ?? '') };
}

/** The last JSON object line of a script's stdout (the scripts print their record last). */
export function lastJsonLine<T>(stdout: string): T | undefined {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'));
  return lines.length ? (obj(lines[lines.length - 1]!) as T | undefined) : undefined;
}

/** status.yml's output: one `NAME<TAB>JSON` line per record file present. */
export function parseStatusOutput(stdout: string): { last?: BackupRecord; lastFailure?: BackupRecord; lastRestore?: RestoreRecord } {
  const out: { last?: BackupRecord; lastFailure?: BackupRecord; lastRestore?: RestoreRecord } = {};
  for (const line of stdout.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const v = obj(line.slice(tab + 1));
    if (!v) continue;
    const name = line.slice(0, tab);
    if (name === 'last') out.last = v as unknown as BackupRecord;
    else if (name === 'last-failure') out.lastFailure = v as unknown as BackupRecord;
    else if (name === 'last-restore') out.lastRestore = v as unknown as RestoreRecord;
  }
  return out;
}

/** A duration like 30m, 26h or 7d in milliseconds. */
export function durationMs(d: string): number {
  const m = /^(\d+)(m|h|d)$/.exec(d);
  if (!m) throw ahlError('INTERNAL', { message: `not a duration: ${d}` });
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

export interface Freshness {
  /** Age of the last good backup, when there is one. */
  readonly ageMs?: number;
  /** There is a good backup younger than maxAge. */
  readonly fresh: boolean;
  readonly maxAge: string;
}

/** How fresh the last good backup is against the persona's maxAge. Pure: `now` is given. */
export function freshness(last: BackupRecord | undefined, maxAge: string, now: Date): Freshness {
  if (!last || last.status !== 'ok') return { fresh: false, maxAge };
  const ageMs = now.getTime() - Date.parse(last.finished ?? last.time);
  return { ageMs, fresh: ageMs <= durationMs(maxAge), maxAge };
}
