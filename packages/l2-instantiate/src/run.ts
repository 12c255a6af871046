import { connectLab, forgetHostKeys, recordHostStates, vmHosts, type HostStatePatch, type Lab, type ProxmoxClient, type Secrets } from '@ahl/core';
import { guestOf, serverGuests } from '@ahl/l1-image';
import { openPlanDir } from './plan-dir.js';
import { applyPlan, planHosts, prepareWorkspace, type L2Apply, type L2Plan, type TerraformOptions, type Workspace } from './terraform.js';

/*
 * L2's runner as `ahl apply`, `ahl destroy`, `ahl plan`, `ahl up` and `ahl drift` use it: the VMs
 * the server has are read first, the module is rendered and planned, and an approved plan with
 * changes is applied, remembered for `ahl status`, and the SSH host keys of new VMs forgotten.
 */

export interface L2Outcome {
  readonly ws: Workspace;
  readonly plan: L2Plan;
  readonly applied?: L2Apply;
}

export interface L2RunOptions extends TerraformOptions {
  /** Only these hosts' VMs (terraform -target); the others are left alone. */
  readonly hosts?: readonly string[];
  readonly destroy?: boolean;
  readonly replace?: boolean;
  /** Apply: true, or a predicate that accepts the plan. False plans only. */
  readonly approve: boolean | ((plan: L2Plan) => boolean);
  /** A client that has already proven the endpoint (and its pinned fingerprint); else one is opened and closed here. */
  readonly client?: ProxmoxClient;
}

/**
 * Renders the lab, plans (targeted to `hosts` when given) and, when approved and there are changes
 * to make, applies that saved plan with per-VM progress on the reporter. Terraform cannot pin a
 * certificate: ahl's own client reads the VMs first, which checks the endpoint and its fingerprint,
 * and a VM that exists but is not in Terraform's state is adopted. Terraform's warnings and a
 * failure to remember the result are the reporter's warnings, never the run's failure.
 *
 * A run that cannot apply (`approve: false`: `ahl plan`, `ahl drift`, which take no lab lock)
 * renders into a folder of its own, removed before this returns (the outcome's `ws.dir` is gone
 * then), so a concurrent `ahl apply --approve` never has its module or saved plan rewritten under it.
 */
export async function runL2(lab: Lab, secrets: Secrets, o: L2RunOptions): Promise<L2Outcome> {
  const { hosts, destroy, replace, approve, client: given, ...opts } = o;
  const client = given ?? (await connectLab(lab.config, secrets, lab.root));
  let guests;
  try {
    guests = await serverGuests(client);
  } finally {
    if (!given) await client.close();
  }
  const existing = vmHosts(lab).flatMap((h) => {
    const g = guestOf(h, guests);
    return g ? [{ host: h.name, node: g.node, vmid: g.vmid, tags: g.tags }] : [];
  });
  const planOnly = approve === false ? await openPlanDir(lab) : undefined;
  try {
    const ws = await prepareWorkspace(lab, secrets, { ...opts, existing, ...(planOnly ? { dir: planOnly.dir } : {}) });
    const plan = await planHosts(ws, { ...(hosts ? { hosts } : {}), ...(destroy ? { destroy: true } : {}), ...(replace ? { replace: true } : {}) });
    for (const w of plan.warnings) if (!/targeting is in effect/i.test(w.summary)) o.reporter?.warn(`terraform: ${w.summary}${w.detail ? `: ${w.detail}` : ''}`);
    const approved = typeof approve === 'function' ? approve(plan) : approve;
    if (!approved || !plan.summary.changes) return { ws, plan };
    const at = new Date();
    let applied: L2Apply | undefined;
    try {
      applied = await applyPlan(ws, plan);
    } finally {
      await rememberApply(lab, plan, applied, at, o);
    }
    return { ws, plan, applied };
  } finally {
    await planOnly?.dispose();
  }
}

/** What an apply did, for `ahl status`, and the stale host keys of the VMs it made anew (or removed). */
async function rememberApply(lab: Lab, plan: L2Plan, applied: L2Apply | undefined, at: Date, o: L2RunOptions): Promise<void> {
  const patches: Record<string, HostStatePatch> = {};
  for (const h of plan.summary.hosts) {
    if (h.action === 'no-op') continue;
    const done = applied?.hosts.find((a) => a.host === h.host)?.state === 'done';
    patches[h.host] = { instance: { at: at.toISOString(), status: done ? 'changed' : 'failed', changed: [h.action] } };
  }
  try {
    await recordHostStates(lab.root, patches);
  } catch (e) {
    o.reporter?.warn(`! could not record the result for ahl status: ${(e as Error).message}`);
  }
  // A created, replaced or destroyed VM is a new machine (or none): its old host key is stale.
  const renewed = plan.summary.hosts.filter((h) => h.action === 'create' || h.action === 'replace' || h.action === 'delete').map((h) => h.host);
  const forgotten = await forgetHostKeys(lab, lab.hosts.filter((h) => renewed.includes(h.name)));
  if (forgotten.length) o.reporter?.info(`forgot the old SSH host keys of ${forgotten.join(', ')} (a new VM has a new key)`);
}
