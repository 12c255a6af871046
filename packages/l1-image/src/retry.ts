import { ProxmoxApiError } from '@ahl/core';

/** PVE's answers when a config or file lock is held by another operation. */
export function isLockError(e: unknown): boolean {
  return e instanceof ProxmoxApiError && (e.status === 500 || e.status === 596) && /is locked|got timeout|can't lock file/i.test(`${e.statusText} ${e.message}`);
}

/**
 * Retries `fn` while Proxmox says a lock is held, with growing pauses, for at most `budgetMs`.
 * Anything else is passed through at once.
 */
export async function withLockRetry<T>(fn: () => Promise<T>, opts: { budgetMs?: number; sleep?: (ms: number) => Promise<void>; onWait?: (e: Error, attempt: number) => void } = {}): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (opts.budgetMs ?? 120_000);
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isLockError(e) || Date.now() + delay > deadline) throw e;
      opts.onWait?.(e as Error, attempt);
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }
}
