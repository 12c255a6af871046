import { connectLab, readHostStates, type Host, type Lab, type ProxmoxClient, type Redactor, type Reporter, type Secrets } from '@ahl/core';
import { convergePassthrough, runL2, type TerraformOptions } from '@ahl/l2-instantiate';
import { convergeSystem, systemHosts } from '@ahl/l3-system';
import { deployWorkloads, workloadHosts } from '@ahl/l4-workload';
import { buildDrift, type CheckRun, type DriftLayer, type DriftReport, type PassthroughCheck, type TerraformCheck } from './drift.js';
import { intentOf } from './intent.js';
import { rememberLayer, type Warn } from './records.js';
import { gatherStatus } from './status.js';

/*
 * The effectful half of `ahl drift` (and of `ahl reconcile`, which starts from it): every check runs
 * here, the report is buildDrift's.
 */

export interface DriftRunOptions {
  /** The hosts to check (the command's targets). */
  readonly hosts: readonly Host[];
  readonly layers: readonly DriftLayer[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
  /** Where the checks' messages go (Terraform's and Ansible's progress is not drawn). */
  readonly reporter?: Reporter;
  readonly redactor?: Redactor;
  /** A failure to remember a check for `ahl status`. */
  readonly warn: Warn;
}

/**
 * The drift report of the given hosts: one status call for L1, each VM's config for its passthrough
 * disks and Terraform's refreshed plan (L2), then the L3 and L4 playbooks with --check, each check
 * remembered for `ahl status`. Nothing is changed on any host.
 */
export async function gatherDrift(lab: Lab, secrets: Secrets, o: DriftRunOptions): Promise<DriftReport> {
  const { hosts, layers, warn, signal, ...tools } = o;
  const names = new Set(hosts.map((h) => h.name));
  const full = layers.includes('L1') ? await gatherStatus(lab, () => connectLab(lab.config, secrets, lab.root)) : undefined;
  const status = full && { ...full, hosts: full.hosts.filter((h) => names.has(h.host)) };
  const states = await readHostStates(lab.root);
  let passthrough: PassthroughCheck | 'left out' | undefined = layers.includes('L2') ? undefined : 'left out';
  let terraform: TerraformCheck | undefined;
  const vms = hosts.filter((h) => h.runtime === 'vm');
  if (layers.includes('L2') && vms.length) {
    const client = await connectLab(lab.config, secrets, lab.root);
    try {
      const run = await convergePassthrough(lab, client, vms, signal ? { signal } : {});
      passthrough = { hosts: run.hosts, intents: new Map(await Promise.all(vms.map(async (h) => [h.name, await intentOf('passthrough', lab, h)] as const))) };
      terraform = await terraformCheck(lab, secrets, client, run.hosts.filter((h) => h.state !== 'absent').map((h) => h.host), { ...tools, ...(signal ? { signal } : {}) });
    } finally {
      await client.close();
    }
  }
  let system: CheckRun | 'left out' | undefined = layers.includes('L3') ? undefined : 'left out';
  const sHosts = systemHosts(lab).filter((h) => names.has(h.name));
  if (layers.includes('L3') && sHosts.length) {
    const r = await convergeSystem(lab, { ...tools, targets: sHosts.map((h) => h.name), check: true });
    await rememberLayer(warn, lab, 'system', true, r.hosts);
    system = { hosts: r.hosts, intents: new Map(await Promise.all(sHosts.map(async (h) => [h.name, await intentOf('system', lab, h)] as const))) };
  }
  let workload: CheckRun | 'left out' | undefined = layers.includes('L4') ? undefined : 'left out';
  const wHosts = workloadHosts(lab).filter((h) => names.has(h.name));
  if (layers.includes('L4') && wHosts.length) {
    const r = await deployWorkloads(lab, { ...tools, secrets, targets: wHosts.map((h) => h.name), check: true });
    await rememberLayer(warn, lab, 'workload', true, r.hosts);
    workload = { hosts: r.hosts, intents: new Map(await Promise.all(wHosts.map(async (h) => [h.name, await intentOf('workload', lab, h)] as const))) };
  }
  return buildDrift({ at: new Date(), ...(status ? { status } : {}), ...(passthrough ? { passthrough } : {}), ...(terraform ? { terraform } : {}), ...(system ? { system } : {}), ...(workload ? { workload } : {}), states });
}

/**
 * Terraform's plan of the VMs that exist (refreshed, targeted, never applied): what changed on the
 * server and what the intent changed. Without terraform, or when it fails, the reason is the result.
 */
async function terraformCheck(lab: Lab, secrets: Secrets, client: ProxmoxClient, hosts: readonly string[], tools: TerraformOptions): Promise<TerraformCheck | undefined> {
  if (!hosts.length) return undefined;
  try {
    const r = await runL2(lab, secrets, { ...tools, hosts, approve: false, client });
    return { hosts: r.plan.summary.hosts, unresolved: r.plan.unresolved };
  } catch (e) {
    if (tools.signal?.aborted) throw e;
    return { error: (e as Error).message };
  }
}
