import type { HostState } from '@ahl/core';
import type { StatusReport } from './status.js';

/*
 * `ahl drift`: one report across the layers. Each finding names the host, what differs, why it
 * differs (its cause) and the command that reconciles it. The builder is pure (the CLI's views render it); the
 * command gathers the status (one API call) and runs the L3 and L4 checks (Ansible --check).
 */

export type DriftLayer = 'L1' | 'L2' | 'L3' | 'L4';
export type DriftCause =
  /** The host differs from the intent it was last converged with: somebody changed it by hand. */
  | 'changed outside ahl'
  /** The intent changed since the host was last converged. */
  | 'intent changed'
  /** The host's template channel points at a newer template than the VM was cloned from. */
  | 'template moved'
  /** This machine has no record of converging the host, so the cause is unknown. */
  | 'never converged here';

export interface DriftFinding {
  readonly layer: DriftLayer;
  readonly host: string;
  readonly cause: DriftCause;
  /** What differs: changed tasks, or the template versions. */
  readonly what: readonly string[];
  readonly reconcile: string;
  /** For an L2 finding from Terraform's plan: what applying it does to the VM. */
  readonly terraform?: 'update' | 'replace' | 'adopt';
}

export interface LayerCheck {
  readonly layer: DriftLayer;
  readonly name: string;
  readonly checked: boolean;
  /** Why the layer was not checked. */
  readonly why?: string;
  /** What a checked layer did not look at. */
  readonly partial?: string;
  readonly hosts: readonly string[];
  /** Hosts that could not be checked (unreachable, or the check failed), with the reason. */
  readonly unchecked: readonly { readonly host: string; readonly reason: string }[];
}

export interface DriftReport {
  readonly at: string;
  readonly layers: readonly LayerCheck[];
  readonly findings: readonly DriftFinding[];
  /** No drift and every selected host checked. */
  readonly clean: boolean;
}

/** A host's result from an Ansible --check run, as L3 and L4 report it. */
export interface CheckedHost {
  readonly host: string;
  readonly status: 'ok' | 'changed' | 'failed' | 'unreachable';
  readonly changed: readonly { readonly task: string }[];
  readonly failed: readonly { readonly task: string; readonly message: string }[];
  readonly unreachable?: string;
}

export interface CheckRun {
  readonly hosts: readonly CheckedHost[];
  /** The digest of each host's current intent for the layer. */
  readonly intents: ReadonlyMap<string, string>;
}

/** A VM's passthrough disks against its config, as `convergePassthrough` without apply reports them. */
export interface PassthroughCheck {
  readonly hosts: readonly {
    readonly host: string;
    readonly state: 'absent' | 'in-sync' | 'planned' | 'applied' | 'conflict' | 'failed';
    readonly actions: readonly (
      | { readonly kind: 'add' | 'keep'; readonly slot: string; readonly device: string }
      | { readonly kind: 'update'; readonly slot: string; readonly device: string; readonly current: string }
      | { readonly kind: 'conflict'; readonly slot: string; readonly device: string; readonly current: string; readonly reason: string }
      | { readonly kind: 'unmanaged'; readonly slot: string; readonly current: string }
    )[];
  }[];
  /** The digest of each host's declared disks. */
  readonly intents: ReadonlyMap<string, string>;
}

/** Terraform's plan of the selected VMs (targeted, no apply), or why it could not be made. */
export type TerraformCheck =
  | {
      readonly hosts: readonly {
        readonly host: string;
        readonly action: 'create' | 'update' | 'replace' | 'delete' | 'no-op';
        readonly changes: readonly { readonly path: string; readonly before?: unknown; readonly after?: unknown }[];
        readonly replaceBecause: readonly string[];
        readonly drift: readonly { readonly path: string; readonly before?: unknown; readonly after?: unknown }[];
        readonly adopt?: string;
      }[];
      /** Hosts whose template is not built: their VM's shape cannot be compared. */
      readonly unresolved: readonly { readonly host: string; readonly template: string }[];
    }
  | { readonly error: string };

const show = (v: unknown) => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

/** L2 findings from Terraform: what changed outside ahl (its refresh found it), what the intent changed. */
function terraformFindings(tf: TerraformCheck): DriftFinding[] {
  if ('error' in tf) return [];
  const findings: DriftFinding[] = [];
  for (const h of tf.hosts) {
    if (h.action === 'create' || h.action === 'delete') continue;
    const apply = `ahl apply ${h.host} --approve`;
    if (h.adopt) findings.push({ layer: 'L2', host: h.host, cause: 'never converged here', what: [`the VM ${h.adopt} is not in Terraform's state yet`], reconcile: apply, terraform: 'adopt' });
    const outside = new Set(h.drift.map((d) => d.path));
    if (h.drift.length && h.action !== 'no-op')
      findings.push({ layer: 'L2', host: h.host, cause: 'changed outside ahl', what: h.drift.map((d) => `${d.path}: ${show(d.before)} → ${show(d.after)} on the server`), reconcile: apply, terraform: h.action === 'replace' ? 'replace' : 'update' });
    const intent = h.changes.filter((c) => !outside.has(c.path));
    if (h.action === 'replace')
      findings.push({
        layer: 'L2',
        host: h.host,
        cause: 'intent changed',
        what: [`replace: ${h.replaceBecause.join(', ') || 'forced'} cannot change in place`, ...intent.map((c) => `${c.path}: ${show(c.before)} → ${show(c.after)}`)],
        reconcile: `${apply} (replaces the VM: back it up first)`,
        terraform: 'replace',
      });
    else if (h.action === 'update' && intent.length)
      findings.push({ layer: 'L2', host: h.host, cause: 'intent changed', what: intent.map((c) => `${c.path}: ${show(c.before)} → ${show(c.after)}`), reconcile: apply, terraform: 'update' });
  }
  return findings;
}

/** What an L2 finding says of a VM host whose VM does not exist (reconcile plans `ahl up` for it). */
export const NO_VM = 'no VM on the server';

/** L2 findings: VMs that do not exist, and passthrough disks ahl would attach or set, or never touches. */
function instanceFindings(
  run: PassthroughCheck | 'left out' | undefined,
  tf: TerraformCheck | undefined,
  states: ReadonlyMap<string, HostState>,
): { check: Omit<LayerCheck, 'layer' | 'name'>; findings: DriftFinding[] } {
  if (run === 'left out') return { check: { checked: false, why: 'left out (--layer)', hosts: [], unchecked: [] }, findings: [] };
  if (!run) return { check: { checked: false, why: 'no selected host is a VM', hosts: [], unchecked: [] }, findings: [] };
  const partial = !tf
    ? "the VM's shape was not compared (Terraform was not run)"
    : 'error' in tf
      ? `the VM's shape was not compared: ${tf.error}`
      : tf.unresolved.length
        ? `the shape of ${tf.unresolved.map((u) => u.host).join(', ')} was not compared: ${[...new Set(tf.unresolved.map((u) => u.template))].join(', ')} names no built template`
        : undefined;
  const findings: DriftFinding[] = [];
  const unchecked: { host: string; reason: string }[] = [];
  for (const h of run.hosts) {
    if (h.state === 'absent') {
      // A host ahl converged before lost its VM by hand; one it never did was only declared so far.
      const seen = states.get(h.host);
      const cause = seen?.system || seen?.workload || seen?.passthrough ? 'changed outside ahl' : 'never converged here';
      findings.push({ layer: 'L2', host: h.host, cause, what: [NO_VM], reconcile: `ahl up ${h.host} --approve` });
      continue;
    }
    const ours: string[] = [];
    const theirs: string[] = [];
    for (const a of h.actions) {
      if (a.kind === 'add') ours.push(`${a.slot}: ${a.device} is not attached`);
      else if (a.kind === 'update') ours.push(`${a.slot}: ${a.device} is attached as ${a.current}`);
      else if (a.kind === 'conflict') theirs.push(`${a.slot}: ${a.reason}`);
      else if (a.kind === 'unmanaged') theirs.push(`${a.slot}: ${a.current} is attached and not declared`);
    }
    const cause = classifyDrift(states.get(h.host)?.passthrough?.intent, run.intents.get(h.host));
    if (ours.length) findings.push({ layer: 'L2', host: h.host, cause, what: ours, reconcile: `ahl passthrough ${h.host} --approve` });
    if (theirs.length) findings.push({ layer: 'L2', host: h.host, cause, what: theirs, reconcile: `by hand on the node (qm set), or declare it in the persona; \`ahl passthrough ${h.host}\` shows the VM` });
  }
  if (tf) findings.push(...terraformFindings(tf));
  return { check: { checked: true, ...(partial ? { partial } : {}), hosts: run.hosts.map((h) => h.host), unchecked }, findings };
}

/** Why a host's layer differs, from the intent it was last converged with. Pure. */
export function classifyDrift(lastIntent: string | undefined, currentIntent: string | undefined): DriftCause {
  if (!lastIntent || !currentIntent) return 'never converged here';
  return lastIntent === currentIntent ? 'changed outside ahl' : 'intent changed';
}

function layerFindings(
  layer: 'L3' | 'L4',
  run: CheckRun | 'left out' | undefined,
  states: ReadonlyMap<string, HostState>,
): { check: Omit<LayerCheck, 'layer' | 'name'>; findings: DriftFinding[] } {
  if (run === 'left out') return { check: { checked: false, why: 'left out (--layer)', hosts: [], unchecked: [] }, findings: [] };
  if (!run) return { check: { checked: false, why: 'no selected host has this layer', hosts: [], unchecked: [] }, findings: [] };
  const key = layer === 'L3' ? 'system' : 'workload';
  const findings: DriftFinding[] = [];
  const unchecked: { host: string; reason: string }[] = [];
  for (const h of run.hosts) {
    if (h.status === 'unreachable') unchecked.push({ host: h.host, reason: `unreachable: ${(h.unreachable ?? '').split('\n')[0]}` });
    else if (h.status === 'failed') unchecked.push({ host: h.host, reason: h.failed.map((f) => `${f.task}: ${f.message.split('\n')[0]}`).join('; ') || 'the check failed' });
    else if (h.status === 'changed')
      findings.push({
        layer,
        host: h.host,
        cause: classifyDrift(states.get(h.host)?.[key]?.intent, run.intents.get(h.host)),
        what: [...new Set(h.changed.map((c) => c.task))],
        reconcile: `ahl converge ${key} ${h.host}`,
      });
  }
  return { check: { checked: true, hosts: run.hosts.map((h) => h.host), unchecked }, findings };
}

/** The drift report from the status and the L3/L4 checks. Pure. */
export function buildDrift(input: {
  readonly at: Date;
  /** Absent when L1 was left out. */
  readonly status?: StatusReport;
  readonly passthrough?: PassthroughCheck | 'left out';
  readonly terraform?: TerraformCheck;
  readonly system?: CheckRun | 'left out';
  readonly workload?: CheckRun | 'left out';
  readonly states: ReadonlyMap<string, HostState>;
}): DriftReport {
  const { status, states } = input;
  const l1: DriftFinding[] = (status?.hosts ?? []).flatMap((h): DriftFinding[] =>
    h.template?.state === 'behind'
      ? [{ layer: 'L1', host: h.host, cause: 'template moved', what: [`${h.template.ref}: cloned from ${h.template.version}, the channel is at ${h.template.channelVersion}`], reconcile: `ahl rebuild ${h.host}` }]
      : [],
  );
  const l2 = instanceFindings(input.passthrough, input.terraform, states);
  const l3 = layerFindings('L3', input.system, states);
  const l4 = layerFindings('L4', input.workload, states);
  const layers: LayerCheck[] = [
    {
      layer: 'L1',
      name: 'templates',
      ...(!status
        ? { checked: false, why: 'left out (--layer)', hosts: [], unchecked: [] }
        : status.api.ok
          ? { checked: true, hosts: status.hosts.map((h) => h.host), unchecked: [] }
          : { checked: false, why: `the Proxmox API could not be asked (${status.api.error})`, hosts: [], unchecked: [] }),
    },
    { layer: 'L2', name: 'instances', ...l2.check },
    { layer: 'L3', name: 'system', ...l3.check },
    { layer: 'L4', name: 'workload', ...l4.check },
  ];
  const findings = [...l1, ...l2.findings, ...l3.findings, ...l4.findings];
  const unchecked = layers.some((l) => l.unchecked.length) || (status !== undefined && !status.api.ok);
  return { at: input.at.toISOString(), layers, findings, clean: findings.length === 0 && !unchecked };
}

/** The webhook payload of a report: what a chat bot or an alerting rule needs, nothing more. Pure. */
export function driftPayload(lab: string, r: DriftReport): Record<string, unknown> {
  const unchecked = r.layers.flatMap((l) => l.unchecked.map((u) => ({ layer: l.layer, host: u.host, reason: u.reason })));
  const n = r.findings.length;
  const hosts = [...new Set(r.findings.map((f) => f.host))];
  return {
    lab,
    at: r.at,
    clean: r.clean,
    summary: n ? `${lab}: ${n} drift finding${n === 1 ? '' : 's'} on ${hosts.join(', ')}` : `${lab}: ${unchecked.length} host check${unchecked.length === 1 ? '' : 's'} could not run`,
    findings: r.findings.map((f) => ({ layer: f.layer, host: f.host, cause: f.cause, what: f.what, reconcile: f.reconcile })),
    unchecked,
  };
}

/** POSTs JSON to a webhook; a failure is a value, never an exception. */
export async function postJson(url: string, body: unknown, timeoutMs = 10_000): Promise<{ ok: true; status: number } | { ok: false; error: string }> {
  try {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'ahl' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? { ok: true, status: res.status } : { ok: false, error: `HTTP ${res.status}` };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}
