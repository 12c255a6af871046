import { ApiError } from '../errors.js';
import type { StorageDef } from './types.js';

/**
 * The storage lock PVE takes around volume allocation (`PVE::Storage::vdisk_alloc`, `vdisk_clone`
 * and friends run inside `cluster_lock_storage`): a flock on `/var/lock/pve-manager/pve-storage-<id>`
 * on the node for local storage, the cluster-wide `cfs_lock_storage` for shared storage. Both wait
 * 10 s by default, then die with `got timeout` (flock) or `got lock request timeout` (cfs).
 *
 * Off by default. With `{ holdMs, timeoutMs }`, every volume the sim allocates or copies (create,
 * `<storage>:N` / `:cloudinit` in config, clone, restore, move_disk) holds its storage's lock for at
 * least `holdMs`; waiters queue first come, first served, and one that has waited `timeoutMs` without
 * getting it fails with PVE's message: its task fails (`clone failed: can't lock file ...`) or, for a
 * synchronous `PUT …/config`, the call answers 500. Freeing volumes does not take the lock here.
 */
export interface StorageLockOptions {
  /** How long each allocation or copy holds the storage's lock, in ms. */
  holdMs: number;
  /** How long a waiter waits before it fails, in ms. Default 10000 (PVE's `lock_file` default). */
  timeoutMs?: number;
}

export interface StorageLockStats {
  /** Locks taken (allocations that ran). */
  acquired: number;
  /** Of those, how many had to wait for another holder first. */
  waited: number;
  /** Waiters that gave up after `timeoutMs` (each failed its task or call). */
  timeouts: number;
  /** Longest wait that ended with the lock, in ms. */
  maxWaitMs: number;
  /** Sum of all waits (including those that timed out), in ms. */
  totalWaitMs: number;
  /** Per lock (`<storage>` for shared storage, `<node>/<storage>` for local). */
  byLock: Record<string, { acquired: number; timeouts: number }>;
}

interface Waiter {
  grant(): void;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    t.unref?.();
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** The message PVE dies with when the storage lock is not had in time. */
export function storageLockTimeoutMessage(s: StorageDef): string {
  return s.shared ? `cfs-lock 'storage-${s.storage}' error: got lock request timeout\n` : `can't lock file '/var/lock/pve-manager/pve-storage-${s.storage}' - got timeout\n`;
}

export class StorageLocks {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, Waiter[]>();
  private counters: StorageLockStats = StorageLocks.empty();

  constructor(
    private readonly opts: StorageLockOptions | undefined,
    private readonly now: () => number = Date.now,
  ) {
    if (opts && (!(opts.holdMs >= 0) || (opts.timeoutMs !== undefined && !(opts.timeoutMs >= 0)))) throw new Error('storageLock: holdMs and timeoutMs must be non-negative numbers');
  }

  private static empty(): StorageLockStats {
    return { acquired: 0, waited: 0, timeouts: 0, maxWaitMs: 0, totalWaitMs: 0, byLock: {} };
  }

  get enabled(): boolean {
    return this.opts !== undefined;
  }

  get options(): Readonly<Required<StorageLockOptions>> | undefined {
    return this.opts ? { holdMs: this.opts.holdMs, timeoutMs: this.opts.timeoutMs ?? 10000 } : undefined;
  }

  snapshot(): StorageLockStats {
    return { ...this.counters, byLock: Object.fromEntries(Object.entries(this.counters.byLock).map(([k, v]) => [k, { ...v }])) };
  }

  reset(): void {
    this.counters = StorageLocks.empty();
  }

  /**
   * Runs `fn` (the allocation) holding the lock of storage `s` as seen from `node`, for at least
   * `holdMs`. Without the model it just runs `fn`. Rejects with PVE's timeout error when the lock
   * is not had within `timeoutMs`, and with `received interrupt` when `signal` aborts the wait.
   */
  async run<T>(s: StorageDef, node: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (!this.opts) return fn();
    const key = s.shared ? s.storage : `${node}/${s.storage}`;
    await this.acquire(key, s, signal);
    try {
      const [out] = await Promise.all([fn(), sleep(this.opts.holdMs, signal)]);
      return out;
    } finally {
      this.release(key);
    }
  }

  private entry(key: string): { acquired: number; timeouts: number } {
    return (this.counters.byLock[key] ??= { acquired: 0, timeouts: 0 });
  }

  private acquire(key: string, s: StorageDef, signal?: AbortSignal): Promise<void> {
    const queue = this.queues.get(key) ?? [];
    this.queues.set(key, queue);
    if (!this.held.has(key) && queue.length === 0) {
      this.held.add(key);
      this.counters.acquired++;
      this.entry(key).acquired++;
      return Promise.resolve();
    }
    if (signal?.aborted) return Promise.reject(new Error('received interrupt'));
    const timeoutMs = this.opts!.timeoutMs ?? 10000;
    const start = this.now();
    return new Promise<void>((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = queue.indexOf(waiter);
        if (i >= 0) queue.splice(i, 1);
        this.counters.totalWaitMs += this.now() - start;
      };
      const waiter: Waiter = {
        grant: () => {
          leave();
          const waited = this.now() - start;
          this.counters.acquired++;
          this.counters.waited++;
          this.counters.maxWaitMs = Math.max(this.counters.maxWaitMs, waited);
          this.entry(key).acquired++;
          this.held.add(key);
          resolve();
        },
      };
      const onAbort = (): void => {
        leave();
        reject(new Error('received interrupt'));
      };
      const timer = setTimeout(() => {
        leave();
        this.counters.timeouts++;
        this.entry(key).timeouts++;
        reject(new ApiError(500, storageLockTimeoutMessage(s)));
      }, timeoutMs);
      timer.unref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
    });
  }

  private release(key: string): void {
    this.held.delete(key);
    const next = this.queues.get(key)?.[0];
    if (next) next.grant();
  }
}
