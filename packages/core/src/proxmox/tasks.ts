import { ahlError } from '../errors.js';
import type { ProxmoxClient } from './client.js';

/** A Proxmox task id: UPID:node:pid:pstart:starttime:type:id:user@realm[!token]: */
export interface Upid {
  readonly node: string;
  readonly type: string;
  readonly id: string;
  readonly user: string;
  readonly upid: string;
}

export function parseUpid(upid: string): Upid {
  const m = /^UPID:([^:]+):[0-9A-F]{8}:[0-9A-F]{8}:[0-9A-F]{8}:([^:]*):([^:]*):([^:]*):$/.exec(upid);
  if (!m) throw ahlError('INTERNAL', { message: `not a task id: ${upid}` });
  return { node: m[1]!, type: m[2]!, id: m[3]!, user: m[4]!, upid };
}

export interface TaskResult {
  readonly upid: string;
  readonly ok: boolean;
  /** PVE's exit status: OK, WARNINGS: n, or the error text. */
  readonly exitstatus: string;
  /** The task log's lines, in order. */
  readonly log: readonly string[];
  readonly polls: number;
}

export interface WaitOptions {
  /** Give up after this long; default 30 min. */
  readonly timeoutMs?: number;
  /** First poll delay; default 200 ms, growing ×1.5 up to `maxDelayMs`. */
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Called with each new log line while the task runs. */
  readonly onLog?: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Waits for a task with backoff, streaming its log. A short task costs a few polls, a long one at
 * most one poll every `maxDelayMs`. The result says whether it succeeded; failures are values.
 */
export async function waitForTask(client: ProxmoxClient, upid: string, opts: WaitOptions = {}): Promise<TaskResult> {
  const { node } = parseUpid(upid);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  const path = `/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(upid)}`;
  const log: string[] = [];
  let delay = opts.initialDelayMs ?? 200;
  let polls = 0;
  const readLog = async () => {
    const lines = await client.request<{ n: number; t: string }[]>('GET', `${path}/log`, { start: log.length, limit: 500 });
    for (const l of lines ?? []) {
      if (l.t === 'no content') continue;
      log.push(l.t);
      opts.onLog?.(l.t);
    }
  };
  for (;;) {
    polls++;
    const status = await client.request<{ status: string; exitstatus?: string }>('GET', `${path}/status`);
    if (opts.onLog) await readLog();
    if (status.status === 'stopped') {
      if (!opts.onLog) await readLog();
      const exitstatus = status.exitstatus ?? 'unknown';
      return { upid, ok: exitstatus === 'OK' || exitstatus.startsWith('WARNINGS'), exitstatus, log, polls };
    }
    if (Date.now() > deadline) return { upid, ok: false, exitstatus: `still running after ${Math.round((opts.timeoutMs ?? 1_800_000) / 1000)} s`, log, polls };
    await sleep(delay);
    delay = Math.min(delay * 1.5, opts.maxDelayMs ?? 5000);
  }
}
