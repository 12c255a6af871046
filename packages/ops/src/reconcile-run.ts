import type { Lab, Redactor, Reporter, Secrets } from '@ahl/core';
import type { L2Outcome, L2Plan } from '@ahl/l2-instantiate';
import { convergeSystem } from '@ahl/l3-system';
import { deployWorkloads } from '@ahl/l4-workload';
import { changeText } from './l2-text.js';
import type { ReconcileOutcome, ReconcileStep } from './reconcile.js';
import { rememberLayer, type Warn } from './records.js';

/*
 * `ahl reconcile`'s steps made: those that are safe, in order, each host's outcome recorded; the
 * rest (and, without `apply`, every step) left awaiting approval. L2 runs through the given runner
 * (the CLI's reports Terraform's progress), L3 and L4 converge here and are remembered for status.
 */

export interface ReconcileRunOptions {
  /** Make the safe steps; false lists what waits for approval only (`--plan`). */
  readonly apply: boolean;
  readonly secrets: Secrets;
  readonly l2: (o: { hosts: readonly string[]; approve: (plan: L2Plan) => boolean }) => Promise<L2Outcome>;
  readonly redactor: Redactor;
  readonly env: NodeJS.ProcessEnv;
  readonly reporter?: Reporter;
  readonly warn: Warn;
  /** Checked before each step: an aborted run throws there. */
  readonly signal?: AbortSignal;
}

export async function runReconcile(lab: Lab, steps: readonly ReconcileStep[], o: ReconcileRunOptions): Promise<ReconcileOutcome[]> {
  const outcomes: ReconcileOutcome[] = [];
  const opts = { redactor: o.redactor, env: o.env, ...(o.reporter ? { reporter: o.reporter } : {}) };
  for (const step of steps) {
    o.signal?.throwIfAborted();
    if (!step.safe) {
      for (const host of step.hosts) outcomes.push({ layer: step.layer, host, result: 'awaiting approval', detail: `ahl ${step.command} ${host}` });
      continue;
    }
    if (!o.apply) continue;
    if (step.layer === 'L2') {
      outcomes.push(...(await applyInPlace(step.hosts, o)));
      continue;
    }
    const r = step.layer === 'L3' ? await convergeSystem(lab, { ...opts, targets: [...step.hosts] }) : await deployWorkloads(lab, { ...opts, secrets: o.secrets, targets: [...step.hosts] });
    await rememberLayer(o.warn, lab, step.layer === 'L3' ? 'system' : 'workload', false, r.hosts);
    for (const h of r.hosts) {
      const ok = h.status === 'ok' || h.status === 'changed';
      const detail = ok ? `${h.changed.length} change${h.changed.length === 1 ? '' : 's'} made` : h.status === 'unreachable' ? `unreachable: ${(h.unreachable ?? '').split('\n')[0]}` : h.failed.map((f) => `${f.task}: ${f.message.split('\n')[0]}`).join('; ');
      outcomes.push({ layer: step.layer, host: h.host, result: ok ? 'reconciled' : 'failed', detail });
    }
  }
  return outcomes;
}

/** A safe L2 step: Terraform's targeted apply, only if its plan neither replaces nor destroys a VM. */
async function applyInPlace(hosts: readonly string[], o: ReconcileRunOptions): Promise<ReconcileOutcome[]> {
  try {
    const r = await o.l2({ hosts, approve: (p) => p.summary.hosts.every((h) => h.action === 'update' || h.action === 'no-op') });
    return r.plan.summary.hosts.map((h) => {
      const done = r.applied?.hosts.find((a) => a.host === h.host);
      if (done?.state === 'done' || (h.adopt && r.applied)) return { layer: 'L2', host: h.host, result: 'reconciled', detail: h.changes.map(changeText).join('; ') || 'adopted' };
      if (!r.applied && h.action !== 'no-op') return { layer: 'L2', host: h.host, result: 'awaiting approval', detail: `Terraform would ${h.action} it: ahl apply ${h.host}` };
      return { layer: 'L2', host: h.host, result: h.action === 'no-op' ? 'reconciled' : 'failed', detail: h.action === 'no-op' ? 'nothing left to change' : 'not applied' };
    });
  } catch (e) {
    if (o.signal?.aborted) throw e;
    return hosts.map((host) => ({ layer: 'L2', host, result: 'failed', detail: (e as Error).message }));
  }
}
