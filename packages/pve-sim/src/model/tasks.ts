import { errorText } from '../errors.js';
import type { SimStateData, TaskRecord } from './types.js';

const hex8 = (n: number): string => n.toString(16).toUpperCase().padStart(8, '0');

export const UPID_RE = /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

export interface ParsedUpid {
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

export function parseUpid(upid: string): ParsedUpid | undefined {
  const m = UPID_RE.exec(upid);
  if (!m) return undefined;
  return {
    node: m[1]!,
    pid: parseInt(m[3]!, 16),
    pstart: parseInt(m[4]!, 16),
    starttime: parseInt(m[5]!, 16),
    type: m[6]!,
    id: m[7]!,
    user: m[8]!,
  };
}

/** `%`-escapes what a UPID id field cannot hold (`:`, `%`, `/`, whitespace, control characters). */
export function escapeTaskId(id: string): string {
  return id.replace(/[\x00-\x20:%/\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function formatUpid(t: Omit<ParsedUpid, 'id'> & { id: string }): string {
  return `UPID:${t.node}:${hex8(t.pid)}:${hex8(t.pstart)}:${hex8(t.starttime)}:${t.type}:${t.id}:${t.user}:`;
}

export interface TaskContext {
  readonly upid: string;
  log(line: string): void;
  warn(line: string): void;
  /** Waits the task's configured duration times `fraction`; rejects when the task is stopped. */
  delay(fraction?: number): Promise<void>;
  readonly aborted: boolean;
  /** Aborted when the task is stopped (DELETE on the task, or the sim stopping). */
  readonly signal: AbortSignal;
  /**
   * For workers started with `{ injectInside: true }`: throws the injected failure (fault
   * `taskFailure`), if there is one, at the point of the work where the worker calls it, so the
   * worker's own error handling (the cleanup PVE does) runs. A no-op otherwise.
   */
  failPoint(): void;
}

export interface StartOptions {
  /**
   * An injected failure strikes inside the worker, at its `failPoint()` (or, if the worker never
   * calls it, when the worker has finished), instead of before the worker runs.
   */
  injectInside?: boolean;
}

export type TaskWorker = (ctx: TaskContext) => Promise<void>;

export interface TaskOptions {
  now(): number;
  /** Duration of a task of this type, in ms (split across its delay() calls). */
  durationMs(type: string): number;
  /** A forced failure for this task (fault injection), or undefined. */
  injectedFailure(type: string, id: string): string | undefined;
  onChange(): void;
}

/**
 * Runs PVE-style worker tasks: a UPID at once, the work asynchronously, the
 * outcome only in the task's status and log (`TASK OK`, `TASK WARNINGS: n`,
 * `TASK ERROR: <message>`).
 */
export class TaskManager {
  private readonly running = new Map<string, { abort: () => void; done: Promise<void> }>();
  private readonly waiters = new Map<string, (() => void)[]>();

  constructor(
    private readonly state: SimStateData,
    private readonly opts: TaskOptions,
  ) {}

  start(node: string, type: string, id: string, user: string, worker: TaskWorker, options: StartOptions = {}): string {
    const now = this.opts.now();
    const pid = (this.state.counters.pid = (this.state.counters.pid % 0x3fffff) + 1 + 4096);
    const record: TaskRecord = {
      upid: formatUpid({ node, pid, pstart: 0x1000000 + pid * 7, starttime: now, type, id: escapeTaskId(id), user }),
      node,
      pid,
      pstart: 0x1000000 + pid * 7,
      starttime: now,
      type,
      id: escapeTaskId(id),
      user,
      status: 'running',
      log: [],
    };
    this.state.tasks.push(record);
    if (this.state.tasks.length > 1000) this.state.tasks.splice(0, this.state.tasks.length - 1000);
    let warnings = 0;
    let abort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      abort = () => reject(new Error('received interrupt'));
    });
    aborted.catch(() => {});
    let isAborted = false;
    const controller = new AbortController();
    const total = this.opts.durationMs(type);
    const injected = this.opts.injectedFailure(type, id);
    let injectedPending = injected !== undefined && options.injectInside === true;
    const ctx: TaskContext = {
      upid: record.upid,
      log: (line) => void record.log.push(line),
      warn: (line) => {
        warnings++;
        record.log.push(`WARN: ${line}`);
      },
      delay: (fraction = 1) =>
        Promise.race([new Promise<void>((r) => setTimeout(r, Math.max(0, Math.round(total * fraction))).unref?.()), aborted]),
      get aborted() {
        return isAborted;
      },
      signal: controller.signal,
      failPoint: () => {
        if (!injectedPending) return;
        injectedPending = false;
        throw new Error(injected);
      },
    };
    const run = async (): Promise<void> => {
      try {
        await new Promise((r) => setImmediate(r));
        if (injected !== undefined && !options.injectInside) {
          await ctx.delay();
          throw new Error(injected);
        }
        await worker(ctx);
        ctx.failPoint();
        record.exitstatus = warnings > 0 ? `WARNINGS: ${warnings}` : 'OK';
        record.log.push(warnings > 0 ? `TASK WARNINGS: ${warnings}` : 'TASK OK');
      } catch (err) {
        const text = errorText(err).replace(/\n+$/, '').replace(/\n/g, ' ');
        record.exitstatus = text;
        record.log.push(`TASK ERROR: ${text}`);
      } finally {
        record.status = 'stopped';
        record.endtime = this.opts.now();
        this.running.delete(record.upid);
        this.opts.onChange();
        for (const w of this.waiters.get(record.upid) ?? []) w();
        this.waiters.delete(record.upid);
      }
    };
    const done = run();
    this.running.set(record.upid, {
      abort: () => {
        isAborted = true;
        abort();
        controller.abort(new Error('received interrupt'));
      },
      done,
    });
    this.opts.onChange();
    return record.upid;
  }

  find(upid: string): TaskRecord | undefined {
    return this.state.tasks.find((t) => t.upid === upid);
  }

  /** Stops a running task; its status becomes `received interrupt`. */
  stop(upid: string): void {
    this.running.get(upid)?.abort();
  }

  /** Resolves when the task has stopped. */
  wait(upid: string): Promise<TaskRecord | undefined> {
    const t = this.find(upid);
    if (!t || t.status === 'stopped') return Promise.resolve(t);
    return new Promise((resolve) => {
      const list = this.waiters.get(upid) ?? [];
      list.push(() => resolve(this.find(upid)));
      this.waiters.set(upid, list);
    });
  }

  /** Resolves when no task is running. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((r) => r.done));
  }

  abortAll(): void {
    for (const r of this.running.values()) r.abort();
  }
}
