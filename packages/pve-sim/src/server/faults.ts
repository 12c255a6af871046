import { seededRandom } from '../model/rng.js';
import type { SimCore } from '../model/core.js';

/**
 * Injected faults. Request faults (`latency`, `error`, `timeout`) apply to
 * matching requests; `taskFailure` makes matching tasks fail with `message`;
 * `lock` and `storageFull` change state while the rule exists.
 */
export type FaultRule =
  | (FaultMatch & { kind: 'latency'; latencyMs: number })
  | (FaultMatch & { kind: 'error'; status: number; message: string })
  | (FaultMatch & { kind: 'timeout'; latencyMs?: number })
  | (FaultMatch & { kind: 'taskFailure'; taskType?: string; taskId?: string; message: string })
  | { kind: 'lock'; vmid: number; lock?: string; durationMs?: number; id?: string }
  | { kind: 'storageFull'; storage: string; durationMs?: number; id?: string };

export interface FaultMatch {
  id?: string;
  /**
   * `METHOD /template` of an implemented endpoint (`POST /nodes/{node}/qemu/{vmid}/clone`),
   * with `*` for any method (`* /cluster/resources`); omitted = every request.
   */
  endpoint?: string;
  /** A regular expression tested against the request path below /api2/json. */
  pathPattern?: string;
  /** Chance per matching request or task, 0..1 (default 1), drawn from the seeded generator. */
  probability?: number;
  /** How many times the rule fires before it is removed (default unlimited). */
  times?: number;
}

export type StoredFault = FaultRule & { id: string };

export class FaultSet {
  private rules: StoredFault[] = [];
  private seq = 0;
  private random: () => number;
  private timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly core: () => SimCore,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  reseed(seed: number): void {
    this.random = seededRandom(seed);
  }

  list(): StoredFault[] {
    return this.rules.map((r) => ({ ...r }));
  }

  add(rule: FaultRule): string {
    const id = rule.id ?? `fault-${++this.seq}`;
    const stored = { ...rule, id } as StoredFault;
    this.rules = this.rules.filter((r) => r.id !== id);
    this.rules.push(stored);
    const core = this.core();
    if (stored.kind === 'lock') {
      const g = core.guest(stored.vmid);
      if (stored.lock) {
        if (g) g.config.lock = stored.lock;
      } else core.fileLocks.set(stored.vmid, Number.MAX_SAFE_INTEGER);
      core.changed();
    } else if (stored.kind === 'storageFull') {
      core.fullStorages.add(stored.storage);
    }
    const duration = 'durationMs' in stored ? stored.durationMs : undefined;
    if (duration !== undefined) {
      const t = setTimeout(() => this.remove(id), duration);
      t.unref?.();
      this.timers.set(id, t);
    }
    return id;
  }

  remove(id: string): boolean {
    const rule = this.rules.find((r) => r.id === id);
    if (!rule) return false;
    this.rules = this.rules.filter((r) => r.id !== id);
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
    const core = this.core();
    if (rule.kind === 'lock') {
      const g = core.guest(rule.vmid);
      if (rule.lock) {
        if (g && g.config.lock === rule.lock) delete g.config.lock;
      } else core.fileLocks.delete(rule.vmid);
      core.changed();
    } else if (rule.kind === 'storageFull') {
      if (!this.rules.some((r) => r.kind === 'storageFull' && r.storage === rule.storage)) core.fullStorages.delete(rule.storage);
    }
    return true;
  }

  clear(): void {
    for (const r of [...this.rules]) this.remove(r.id);
  }

  private fires(rule: StoredFault & FaultMatch): boolean {
    if (rule.probability !== undefined && this.random() >= rule.probability) return false;
    if (rule.times !== undefined) {
      rule.times -= 1;
      if (rule.times <= 0) this.remove(rule.id);
    }
    return true;
  }

  /** The request fault for a request, if one fires. */
  forRequest(method: string, routeKey: string | undefined, path: string): StoredFault | undefined {
    for (const rule of this.rules) {
      if (rule.kind !== 'latency' && rule.kind !== 'error' && rule.kind !== 'timeout') continue;
      if (!matches(rule, method, routeKey, path)) continue;
      if (this.fires(rule)) return rule;
    }
    return undefined;
  }

  /** The message a task of this type/id must fail with, if a rule fires. */
  forTask(type: string, id: string): string | undefined {
    for (const rule of this.rules) {
      if (rule.kind !== 'taskFailure') continue;
      if (rule.taskType !== undefined && rule.taskType !== type) continue;
      if (rule.taskId !== undefined && rule.taskId !== id) continue;
      if (this.fires(rule)) return rule.message;
    }
    return undefined;
  }
}

function matches(rule: FaultMatch, method: string, routeKey: string | undefined, path: string): boolean {
  if (rule.endpoint !== undefined) {
    const [m, tmpl] = rule.endpoint.split(' ');
    if (!routeKey) return false;
    const [rm, rt] = routeKey.split(' ');
    if (m !== '*' && m !== rm) return false;
    if (tmpl !== rt) return false;
  }
  if (rule.pathPattern !== undefined && !new RegExp(rule.pathPattern).test(path)) return false;
  void method;
  return true;
}

/** Per-endpoint call accounting. */
export interface EndpointStats {
  count: number;
  errors: number;
  byStatus: Record<string, number>;
  totalMs: number;
  maxMs: number;
}

export class CallStats {
  private data = new Map<string, EndpointStats>();

  record(key: string, status: number, ms: number): void {
    let s = this.data.get(key);
    if (!s) {
      s = { count: 0, errors: 0, byStatus: {}, totalMs: 0, maxMs: 0 };
      this.data.set(key, s);
    }
    s.count++;
    if (status >= 400) s.errors++;
    s.byStatus[String(status)] = (s.byStatus[String(status)] ?? 0) + 1;
    s.totalMs += ms;
    s.maxMs = Math.max(s.maxMs, ms);
  }

  snapshot(): Record<string, EndpointStats & { meanMs: number }> {
    const out: Record<string, EndpointStats & { meanMs: number }> = {};
    for (const k of [...this.data.keys()].sort()) {
      const s = this.data.get(k)!;
      out[k] = { ...s, byStatus: { ...s.byStatus }, totalMs: Math.round(s.totalMs * 1000) / 1000, maxMs: Math.round(s.maxMs * 1000) / 1000, meanMs: Math.round((s.totalMs / s.count) * 1000) / 1000 };
    }
    return out;
  }

  count(key: string): number {
    return this.data.get(key)?.count ?? 0;
  }

  reset(): void {
    this.data.clear();
  }
}
