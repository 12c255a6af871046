import { connectLab, connectLabAsRoot, manifestForChannel, plural, readImageRecords, type Host, type Lab, type ProxmoxClient, type Reporter, type Secrets } from '@ahl/core';
import type { RunwayCheck, RunwayReport } from '@ahl/l0-runway';
import { buildTemplate, labCaptureStore, restoreCapture } from '@ahl/l1-image';
import { convergePassthrough, type L2Outcome, type L2Plan } from '@ahl/l2-instantiate';
import { isConvergeError, type ConvergeError } from '@ahl/l3-system';
import { planItem } from './l2-text.js';
import { layerOf } from './layers.js';
import { rememberPassthrough, type Warn } from './records.js';
import { gatherStatus } from './status.js';
import { hostTrouble, planUp, UP_LAYERS, type AnsibleHost, type UpLayer, type UpPlan, type UpState, type UpStep } from './up.js';

/*
 * `ahl up` (and `ahl plan`, which never applies) as a workflow: the layers in order for the selected
 * hosts, each one's outcome an `UpStep`. An apply stops at the first layer that fails or is blocked;
 * a plan goes on to show the rest, unless the runway itself failed. Nothing is printed here: the
 * runners of L0, L2, L3 and L4 are given (the CLI's report live progress), L1 and the passthrough
 * disks report on `reporter`, and `onLayer` hears each layer start and end.
 */

/** The layers' runners as up calls them. Each resolves to the layer's own result. */
export interface UpRunners {
  runway(lab: Lab, client: ProxmoxClient): Promise<RunwayReport>;
  l2(o: { hosts: readonly string[]; approve: boolean | ((plan: L2Plan) => boolean); client: ProxmoxClient }): Promise<L2Outcome>;
  system(o: { targets: string[]; check: boolean; skipUnchanged: true; waitHosts?: readonly string[] }): Promise<readonly AnsibleHost[]>;
  workload(o: { targets: string[]; check: boolean; approve: false; skipUnchanged: true }): Promise<readonly AnsibleHost[]>;
  /** An Ansible run that could not complete, before its layer fails (the CLI prints Ansible's output). */
  ansibleFailed?(e: ConvergeError): Promise<void> | void;
}

export interface UpOptions {
  readonly approve: boolean;
  /** A client that has proven the endpoint; it stays open (the caller closes it). */
  readonly client: ProxmoxClient;
  readonly secrets: Secrets;
  readonly runners: UpRunners;
  /** Recorded in the manifests of templates L1 builds. */
  readonly toolVersion: string;
  /** L1's and the passthrough disks' progress. */
  readonly reporter?: Reporter;
  readonly warn: Warn;
  /** Checked between layers and between templates: an aborted run marks the rest `not run`. */
  readonly signal?: AbortSignal;
  /** A layer starts (no step yet) or ends (its step). */
  readonly onLayer?: (e: { readonly layer: UpLayer; readonly name: string; readonly step?: UpStep }) => void;
}

export interface UpRun {
  readonly approved: boolean;
  /** Every layer done, or planned: no layer failed, was blocked, or (applying) was not run. */
  readonly ok: boolean;
  readonly layers: readonly UpStep[];
}

/** What one layer came to: its state, what it did or would do, and a note when it stops the run. */
type Outcome = { state: UpState; items: string[]; note?: string; created?: string[] };

/** The layers in order for `selected` (hosts of `lab`), stopping as described above. */
export async function runUp(lab: Lab, selected: readonly Host[], o: UpOptions): Promise<UpRun> {
  const steps: UpStep[] = [];
  let stopped = false;
  let plan: UpPlan | undefined;
  for (const { layer, name } of UP_LAYERS) {
    if (stopped || o.signal?.aborted) {
      steps.push({ layer, name, state: 'not run', items: [] });
      continue;
    }
    o.onLayer?.({ layer, name });
    let out: Outcome;
    // The runway of what the target needs: its nodes, storage, templates and conflicts.
    if (layer === 'L0') out = runwayOutcome(await o.runners.runway({ ...lab, hosts: selected }, o.client));
    else {
      plan ??= await planFor(lab, o.secrets, selected);
      out = await LAYERS[layer](lab, plan, o);
      // VMs L2 just created are L3's and L4's now; L3 waits for their first boot.
      if (out.created?.length) plan = withCreated(plan, out.created);
    }
    const { created: _created, ...done } = out;
    const step: UpStep = { layer, name, ...done };
    steps.push(step);
    o.onLayer?.({ layer, name, step });
    if (o.approve ? out.state === 'failed' || out.state === 'blocked' : layer === 'L0' && out.state === 'failed') stopped = true;
  }
  const ok = !steps.some((s) => s.state === 'failed' || s.state === 'blocked' || (o.approve && s.state === 'not run'));
  return { approved: o.approve, ok, layers: steps };
}

/** The checks of a runway that are not PASS, as up shows them (the full report is `ahl runway`). */
export const runwayTrouble = (r: RunwayReport): readonly RunwayCheck[] => r.checks.filter((c) => c.status !== 'PASS');

function runwayOutcome(r: RunwayReport): Outcome {
  const items = [`${r.summary.pass} passed, ${r.summary.warn} warned, ${r.summary.fail} failed`];
  return r.status === 'FAIL' ? { state: 'failed', items, note: 'the runway failed: fix what it says (details: ahl runway)' } : { state: 'ok', items };
}

/** The plan once L2 has created `created`: their converges are due now, not after L2. */
function withCreated(plan: UpPlan, created: readonly string[]): UpPlan {
  const now = (later: readonly string[]) => later.filter((h) => created.includes(h));
  const still = (later: readonly string[]) => later.filter((h) => !created.includes(h));
  return {
    ...plan,
    system: [...plan.system, ...now(plan.systemLater)].sort(),
    systemLater: still(plan.systemLater),
    workload: [...plan.workload, ...now(plan.workloadLater)].sort(),
    workloadLater: still(plan.workloadLater),
    fresh: [...created],
  };
}

/** The plan, from one status read (which VMs exist, which channels are built). */
async function planFor(lab: Lab, secrets: Secrets, selected: readonly Host[]): Promise<UpPlan> {
  const status = await gatherStatus(lab, () => connectLab(lab.config, secrets, lab.root));
  return planUp(lab, selected, status, { system: layerOf('L3').hosts(lab), workload: layerOf('L4').hosts(lab) });
}

type LayerRun = (lab: Lab, plan: UpPlan, o: UpOptions) => Promise<Outcome>;

const LAYERS: Record<Exclude<UpLayer, 'L0'>, LayerRun> = {
  async L1(lab, plan, o) {
    if (!plan.images.length) return { state: 'ok', items: ['every template the hosts follow is built'] };
    const what = (i: UpPlan['images'][number]) => `${i.kind === 'appliance' ? 'restore' : 'build'} ${i.image} for ${i.channels.join(', ')} (${i.hosts.join(', ')})`;
    if (!o.approve) return { state: 'planned', items: plan.images.map(what) };
    const items: string[] = [];
    const reporter = o.reporter ? { reporter: o.reporter } : {};
    for (const i of plan.images) {
      if (o.signal?.aborted) return { state: 'failed', items, note: 'interrupted' };
      let failure: string | undefined;
      if (i.kind === 'cloud') {
        const r = await buildTemplate(lab, o.client, i.image, { toolVersion: o.toolVersion, ...reporter });
        if (r.outcome === 'failed') failure = `the ${r.step} step failed: ${r.message}`;
        else items.push(r.outcome === 'built' ? `built ${r.manifest.templateName} (vmid ${r.manifest.vmid})` : r.reason);
      } else {
        const store = labCaptureStore(lab, async () => o.secrets);
        const r = await restoreCapture(lab, o.client, i.image, { ...reporter, ...(store ? { store } : {}) });
        if (!r.ok) failure = r.reason;
        else items.push(r.skipped ?? `restored ${r.manifest.templateName} (vmid ${r.manifest.vmid}) from ${r.manifest.source.capture}`);
      }
      if (failure) return { state: 'failed', items, note: `${i.image}: ${failure}` };
      // A build promotes an image's first template to stable; another channel is the operator's call.
      const records = await readImageRecords(lab.recordsRoot, i.image);
      const unset = i.channels.filter((c) => !manifestForChannel(records, c));
      if (unset.length) return { state: 'failed', items, note: `${i.image}@${unset.join(', @')} still points at no template: promote one (ahl image list ${i.image}; ahl image promote ${i.image} VERSION)` };
    }
    return { state: 'done', items };
  },

  async L2(lab, plan, o) {
    const vms = [...plan.existing.map((e) => e.host), ...plan.create].sort();
    if (!vms.length) return { state: 'ok', items: ['no VM among the selected hosts'] };
    const items: string[] = [];
    let state: UpState = 'ok';
    // Terraform: create what is missing, update what differs. Never a replacement or a destroy:
    // those lose a VM's disks, and are `ahl apply HOST --approve` (or `ahl rebuild`) after a backup.
    const destructive = (p: L2Plan) => p.summary.hosts.filter((h) => h.action === 'replace' || h.action === 'delete').map((h) => h.host);
    let r: L2Outcome;
    try {
      r = await o.runners.l2({ hosts: vms, approve: o.approve ? (p) => destructive(p).length === 0 : false, client: o.client });
    } catch (e) {
      const err = e as { code?: string; message: string; hint?: string };
      if (err.code === 'TERRAFORM_NOT_FOUND') return { state: 'blocked', items: plan.create.map((h) => `${h}: no VM yet`), note: `${err.message}: ${err.hint}` };
      return { state: 'failed', items, note: err.message };
    }
    const existing = new Map(plan.existing.map((e) => [e.host, e]));
    for (const h of r.plan.summary.hosts) {
      const done = r.applied?.hosts.find((a) => a.host === h.host);
      const e = existing.get(h.host);
      if (h.action === 'no-op' && !h.adopt && e) items.push(`${h.host}: vmid ${e.vmid} on ${e.node}, ${e.power}`);
      else if (done) items.push(`${h.host}: ${done.state === 'done' ? `${h.adopt && h.action === 'no-op' ? 'adopted' : `${h.action}d`}${done.seconds !== undefined ? ` in ${done.seconds} s` : ''}` : `${h.action} failed`}`);
      else items.push(planItem(lab, r.plan, h));
    }
    for (const u of r.plan.unresolved) {
      const e = existing.get(u.host);
      items.push(e ? `${u.host}: vmid ${e.vmid} on ${e.node}, ${e.power}; Terraform adopts it once L1 builds ${u.template}` : `${u.host}: create once L1 builds ${u.template}`);
    }
    const doomed = destructive(r.plan);
    if (doomed.length)
      return {
        state: 'blocked',
        items,
        note: `${doomed.join(', ')} would be replaced: up never replaces or destroys a VM; take a backup, then ahl apply ${doomed.join(' ')} --approve`,
      };
    if (o.approve && r.plan.unresolved.length) return { state: 'failed', items, note: `${r.plan.unresolved.map((u) => u.template).join(', ')} still names no template: promote one (ahl image list)` };
    const created = r.applied ? r.plan.summary.hosts.filter((h) => h.action === 'create').map((h) => h.host) : [];
    if (r.applied) state = 'done';
    else if (r.plan.summary.changes || r.plan.unresolved.length) state = 'planned';
    // Passthrough disks, onto the VMs that exist now.
    const withDisks = lab.hosts.filter((h) => h.passthrough.length > 0 && (plan.passthrough.includes(h.name) || created.includes(h.name)));
    if (withDisks.length) {
      const run = await convergePassthrough(lab, o.client, withDisks, { apply: o.approve, root: () => connectLabAsRoot(lab.config, o.secrets, lab.root), ...(o.signal ? { signal: o.signal } : {}) });
      if (o.approve) await rememberPassthrough(o.warn, lab, run.hosts);
      for (const h of run.hosts) {
        const changes = h.actions.filter((a) => a.kind === 'add' || a.kind === 'update').length;
        items.push(`${h.host}: passthrough ${h.state}${changes ? ` (${changes} ${plural(changes, 'disk')})` : ''}${h.error ? `: ${h.error}` : ''}`);
      }
      if (run.needsRoot.length) return { state: 'failed', items, created, note: `attaching passthrough disks to ${run.needsRoot.join(', ')} needs root@pam: set proxmox.rootPassword, or see ahl passthrough` };
      if (run.hosts.some((h) => h.state === 'failed' || h.state === 'conflict')) return { state: 'failed', items, created, note: 'a passthrough disk could not be converged: see ahl passthrough' };
      if (state === 'ok' && run.hosts.some((h) => h.state === 'planned')) state = 'planned';
      if (run.hosts.some((h) => h.state === 'applied')) state = 'done';
    }
    return { state, items, created };
  },

  async L3(_lab, plan, o) {
    const later = plan.systemLater.length ? [`after L2: ${plan.systemLater.join(', ')}`] : [];
    if (!plan.system.length) return { state: 'ok', items: [...later, ...(later.length ? [] : ['no selected host has a system section'])] };
    const wait = plan.fresh?.length ? { waitHosts: plan.fresh.filter((h) => plan.system.includes(h)) } : {};
    return ansibleLayer(o, later, 'converge', (check) => o.runners.system({ targets: [...plan.system], check, skipUnchanged: true, ...wait }));
  },

  async L4(_lab, plan, o) {
    const later = plan.workloadLater.length ? [`after L2: ${plan.workloadLater.join(', ')}`] : [];
    if (!plan.workload.length) return { state: 'ok', items: [...later, ...(later.length ? [] : ['no selected host has workloads'])] };
    return ansibleLayer(o, later, 'deploy', (check) => o.runners.workload({ targets: [...plan.workload], check, approve: false, skipUnchanged: true }));
  },
};

/** L3 or L4 through Ansible: with approve the converge, else a --check that says what would change. */
async function ansibleLayer(o: UpOptions, later: string[], verb: string, run: (check: boolean) => Promise<readonly AnsibleHost[]>): Promise<Outcome> {
  const { approve } = o;
  let hosts;
  try {
    hosts = await run(!approve);
  } catch (e) {
    if (!isConvergeError(e)) throw e;
    await o.runners.ansibleFailed?.(e);
    return { state: 'failed', items: later, note: e.message };
  }
  const bad = hosts.filter((h) => h.status === 'failed' || h.status === 'unreachable');
  const items = [
    ...hosts.map((h) => {
      const why = hostTrouble(h);
      if (h.unchanged) return `${h.host}: unchanged since its last ${verb}`;
      return `${h.host}: ${approve ? h.status : h.status === 'changed' ? `would change (${h.changed.length})` : h.status === 'ok' ? 'in sync' : h.status}${why ? ` (${why})` : ''}`;
    }),
    ...later,
  ];
  if (bad.length) return { state: 'failed', items, note: `${bad.map((h) => h.host).join(', ')} ${approve ? `could not ${verb}` : 'could not be checked'}` };
  return { state: approve ? 'done' : hosts.some((h) => h.status === 'changed') ? 'planned' : 'ok', items };
}
