import { NO_VM, type DriftReport } from './drift.js';

/*
 * `ahl reconcile`: drift, then what it takes to put the lab back, done where it is safe. Converges
 * (L3, L4) change hosts in place and are made; a rebuild replaces a VM and waits for the operator.
 * The plan is pure; `runReconcile` (reconcile-run.ts) makes its steps.
 */

export interface ReconcileStep {
  readonly layer: 'L1' | 'L2' | 'L3' | 'L4';
  /** The command that reconciles these hosts. */
  readonly command: string;
  readonly hosts: readonly string[];
  /** Made by reconcile; otherwise left for the operator to approve. */
  readonly safe: boolean;
  readonly why: string;
}

/** The steps that reconcile a drift report, in the order they run: VM settings, system, workload. Pure. */
export function planReconcile(report: DriftReport): ReconcileStep[] {
  const hostsOf = (layer: string) => [...new Set(report.findings.filter((f) => f.layer === layer).map((f) => f.host))].sort();
  const steps: ReconcileStep[] = [];
  const l3 = hostsOf('L3');
  if (l3.length) steps.push({ layer: 'L3', command: 'converge system', hosts: l3, safe: true, why: 'in place: the OS is converged back to its intent' });
  const l4 = hostsOf('L4');
  if (l4.length) steps.push({ layer: 'L4', command: 'converge workload', hosts: l4, safe: true, why: 'in place: changed stacks are redeployed, data stays; undeclared stacks are only removed with approval' });
  const l2Hosts = (keep: (f: DriftReport['findings'][number]) => boolean) => [...new Set(report.findings.filter((f) => f.layer === 'L2' && keep(f)).map((f) => f.host))].sort();
  const missing = new Set(l2Hosts((f) => f.what.includes(NO_VM)));
  const replace = l2Hosts((f) => f.terraform === 'replace');
  const inPlace = l2Hosts((f) => f.terraform === 'update' || f.terraform === 'adopt').filter((h) => !replace.includes(h));
  const l2 = l2Hosts((f) => !f.terraform && !f.what.includes(NO_VM));
  if (missing.size) steps.push({ layer: 'L2', command: 'up', hosts: [...missing].sort(), safe: false, why: 'a VM to create: review `ahl plan HOST`, then `ahl up HOST --approve`' });
  // The VM's own settings first, then what runs on it.
  if (inPlace.length) steps.unshift({ layer: 'L2', command: 'apply', hosts: inPlace, safe: true, why: 'in place: Terraform puts each VM\'s settings back to its intent (a VM that is not in its state is adopted)' });
  if (replace.length) steps.push({ layer: 'L2', command: 'apply', hosts: replace, safe: false, why: 'a replacement destroys the VM and its disks: back it up, review `ahl apply HOST`, then --approve' });
  if (l2.length) steps.push({ layer: 'L2', command: 'passthrough', hosts: l2, safe: false, why: 'a physical disk given to a VM (as root@pam) is the operator\'s call: review `ahl passthrough HOST`, then --approve' });
  const l1 = hostsOf('L1');
  if (l1.length) steps.push({ layer: 'L1', command: 'rebuild', hosts: l1, safe: false, why: 'a rebuild replaces the VM: review it, then `ahl rebuild HOST`' });
  return steps;
}

export interface ReconcileOutcome {
  readonly layer: 'L1' | 'L2' | 'L3' | 'L4';
  readonly host: string;
  readonly result: 'reconciled' | 'awaiting approval' | 'failed';
  readonly detail: string;
}

export interface ReconcileReport {
  readonly at: string;
  /** Whether the steps were made (false with --plan). */
  readonly applied: boolean;
  readonly steps: readonly ReconcileStep[];
  readonly outcomes: readonly ReconcileOutcome[];
  /** Hosts or layers the drift check could not look at. */
  readonly unchecked: readonly { readonly layer: string; readonly host: string; readonly reason: string }[];
  /** Nothing drifted, or everything that did was reconciled, and every host was checked. */
  readonly clean: boolean;
}

/** The report from the drift, the plan and what the converges did. Pure. */
export function buildReconcile(drift: DriftReport, steps: readonly ReconcileStep[], outcomes: readonly ReconcileOutcome[], applied: boolean, at: Date): ReconcileReport {
  const unchecked = drift.layers.flatMap((l) => l.unchecked.map((u) => ({ layer: l.layer, host: u.host, reason: u.reason })));
  const planned = applied ? [] : steps.flatMap((s) => s.hosts);
  // Every host checked (the API answered for L1 too), nothing left planned, waiting or failed.
  const apiDown = drift.layers.some((l) => l.layer === 'L1' && !l.checked && (l.why ?? '').startsWith('the Proxmox API'));
  const clean = !apiDown && unchecked.length === 0 && planned.length === 0 && outcomes.every((o) => o.result === 'reconciled');
  return { at: at.toISOString(), applied, steps, outcomes, unchecked, clean };
}

/** The webhook payload: what changed by itself and what still needs a person. Pure. */
export function reconcilePayload(lab: string, r: ReconcileReport): Record<string, unknown> {
  const by = (x: ReconcileOutcome['result']) => r.outcomes.filter((o) => o.result === x).map(({ layer, host, detail }) => ({ layer, host, detail }));
  const waiting = by('awaiting approval');
  const failed = by('failed');
  return {
    lab,
    at: r.at,
    clean: r.clean,
    summary: `${lab}: reconciled ${by('reconciled').length}, awaiting approval ${waiting.length}, failed ${failed.length}, not checked ${r.unchecked.length}`,
    reconciled: by('reconciled'),
    awaitingApproval: waiting,
    failed,
    unchecked: r.unchecked,
  };
}
