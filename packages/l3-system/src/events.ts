/**
 * The NDJSON events of the bundled `ahl_ndjson` callback, and the per-host result they add up to.
 * Parsing is pure: unit tests replay output recorded from real runs.
 */

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped';

export type AnsibleEvent =
  | { readonly event: 'playbook_start'; readonly playbook: string }
  | { readonly event: 'play_start'; readonly play: string; readonly check: boolean }
  | { readonly event: 'task_start'; readonly task: string; readonly handler: boolean }
  | {
      readonly event: 'host_task';
      readonly host: string;
      readonly task: string;
      readonly status: TaskStatus;
      readonly diff?: string;
      readonly msg?: string;
      readonly ignored?: boolean;
    }
  | { readonly event: 'no_hosts' }
  | { readonly event: 'stats'; readonly hosts: Readonly<Record<string, AnsibleHostStats>> };

export interface AnsibleHostStats {
  readonly ok: number;
  readonly changed: number;
  readonly failures: number;
  readonly unreachable: number;
  readonly skipped: number;
  readonly rescued: number;
  readonly ignored: number;
}

export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable';

export interface HostConvergeResult {
  readonly host: string;
  /** unreachable, else failed, else changed (drift, under --check), else ok. */
  readonly status: HostStatus;
  readonly counts: { readonly ok: number; readonly changed: number; readonly failed: number; readonly skipped: number };
  /** Tasks that changed the host (or, under --check, would have), in run order, with their diff. */
  readonly changed: readonly { readonly task: string; readonly diff?: string }[];
  /** Tasks that failed (ignored failures excluded), with Ansible's message. */
  readonly failed: readonly { readonly task: string; readonly message: string }[];
  /** Why the host could not be reached. */
  readonly unreachable?: string;
  /** The converge was skipped: the host recorded the digest of this very intent at its last one (ahl up). */
  readonly unchanged?: boolean;
}

/** Splits ansible-playbook's stdout into events and the lines that are not (kept for error reports). */
export function parseEventLines(text: string): { events: AnsibleEvent[]; other: string[] } {
  const events: AnsibleEvent[] = [];
  const other: string[] = [];
  for (const line of text.split('\n')) {
    const e = parseEventLine(line);
    if (e) events.push(e);
    else if (line.trim()) other.push(line);
  }
  return { events, other };
}

/** One line of output as an event, or undefined when it is not one. */
export function parseEventLine(line: string): AnsibleEvent | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v = JSON.parse(t) as { event?: unknown };
    return typeof v.event === 'string' ? (v as AnsibleEvent) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The per-host results of a run, for exactly `hosts` (sorted by name). Counts come from the final
 * stats event; a host that never appears in it had no result, which is reported as unreachable.
 */
export function summarizeEvents(events: readonly AnsibleEvent[], hosts: readonly string[]): HostConvergeResult[] {
  const stats = [...events].reverse().find((e): e is Extract<AnsibleEvent, { event: 'stats' }> => e.event === 'stats')?.hosts ?? {};
  return [...hosts].sort().map((host) => {
    const mine = events.filter((e): e is Extract<AnsibleEvent, { event: 'host_task' }> => e.event === 'host_task' && e.host === host);
    const changed = mine.filter((e) => e.status === 'changed').map((e) => ({ task: e.task, ...(e.diff ? { diff: e.diff } : {}) }));
    const failed = mine.filter((e) => e.status === 'failed' && !e.ignored).map((e) => ({ task: e.task, message: e.msg ?? '' }));
    const unreachableEvent = mine.find((e) => e.status === 'unreachable');
    const s = stats[host];
    const unreachable = unreachableEvent ? (unreachableEvent.msg ?? 'unreachable') : s ? undefined : 'no result from ansible-playbook for this host';
    const status: HostStatus = unreachable !== undefined || (s?.unreachable ?? 0) > 0 ? 'unreachable' : failed.length || (s?.failures ?? 0) > 0 ? 'failed' : (s?.changed ?? changed.length) > 0 ? 'changed' : 'ok';
    return {
      host,
      status,
      counts: { ok: s?.ok ?? 0, changed: s?.changed ?? 0, failed: s?.failures ?? 0, skipped: s?.skipped ?? 0 },
      changed,
      failed,
      ...(unreachable !== undefined || status === 'unreachable' ? { unreachable: unreachable ?? 'unreachable' } : {}),
    };
  });
}
