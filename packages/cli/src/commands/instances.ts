import type { Lab, ProxmoxClient, Secrets } from '@ahl/core';
import type { L2Apply, L2Plan, Workspace } from '@ahl/l2-instantiate';
import type { CommandContext, CommandDef } from '../command.js';
import { seconds } from '../time.js';
import { loadValidLab } from './lab-root.js';
import { remember } from './memory.js';

/*
 * L2 on its own: `ahl apply` plans the VMs with Terraform and applies exactly that plan, `ahl destroy`
 * removes one VM. `ahl up` runs the same steps as its L2 layer.
 */

export interface L2Outcome {
  readonly ws: Workspace;
  readonly plan: L2Plan;
  readonly applied?: L2Apply;
}

/**
 * Renders the lab, plans (targeted to `hosts` when given) and, when `approve` (true, or a predicate
 * that accepts the plan) and there are changes to make, applies that saved plan with per-VM progress, remembering the result for `ahl status`. Terraform's
 * diagnostics are printed before its error is raised. `client`, when given, has already proven the
 * endpoint (and its pinned fingerprint); otherwise one is opened and closed for that check first.
 * `quiet`: the caller reports a failure itself (Terraform's diagnostics are not printed).
 * A run that cannot apply (`approve: false`: `ahl plan`, `ahl drift`, which take no lab lock) renders
 * into a folder of its own, removed before this returns (the outcome's `ws.dir` is gone then), so a
 * concurrent `ahl apply --approve` never has its module or saved plan rewritten under it.
 */
export async function l2Run(
  ctx: CommandContext,
  lab: Lab,
  secrets: Secrets,
  o: { hosts?: readonly string[]; destroy?: boolean; replace?: boolean; approve: boolean | ((plan: L2Plan) => boolean); client?: ProxmoxClient; quiet?: boolean },
): Promise<L2Outcome> {
  const { connectLab, forgetHostKeys, vmHosts } = await import('@ahl/core');
  const { guestOf, serverGuests } = await import('@ahl/l1-image');
  const { applyPlan, openPlanDir, planHosts, prepareWorkspace } = await import('@ahl/l2-instantiate');
  const { out } = ctx;
  // Terraform cannot pin a certificate: ahl's own client reads the VMs first, which checks the
  // endpoint and its fingerprint; a VM that exists but is not in Terraform's state is adopted.
  const client = o.client ?? (await connectLab(lab.config, secrets, lab.root));
  let guests;
  try {
    guests = await serverGuests(client);
  } finally {
    if (!o.client) await client.close();
  }
  const existing = vmHosts(lab).flatMap((h) => {
    const g = guestOf(h, guests);
    return g ? [{ host: h.name, node: g.node, vmid: g.vmid, tags: g.tags }] : [];
  });
  const reporter = out.reporter(
    (e) => `  ${e.target ?? ''}  ${e.status === 'start' ? out.style('dim', `${e.step}…`) : e.status === 'failed' ? out.style('red', `${e.step} failed`) : out.style('green', `${e.step} done`)}${e.detail ? out.style('dim', ` (${e.detail})`) : ''}`,
    (m) => out.style('dim', m),
  );
  const opts = { env: ctx.env, reporter, redactor: secrets.redactor, signal: ctx.signal };
  const planOnly = o.approve === false ? await openPlanDir(lab) : undefined;
  try {
    const ws = await prepareWorkspace(lab, secrets, { ...opts, existing, ...(planOnly ? { dir: planOnly.dir } : {}) });
    const plan = await planHosts(ws, { ...(o.hosts ? { hosts: o.hosts } : {}), ...(o.destroy ? { destroy: true } : {}), ...(o.replace ? { replace: true } : {}) });
    for (const w of plan.warnings) if (!/targeting is in effect/i.test(w.summary)) out.warn(`terraform: ${w.summary}${w.detail ? `: ${w.detail}` : ''}`);
    const approved = typeof o.approve === 'function' ? o.approve(plan) : o.approve;
    if (!approved || !plan.summary.changes) return { ws, plan };
    const at = new Date();
    let applied: L2Apply | undefined;
    try {
      applied = await applyPlan(ws, plan);
    } finally {
      const patches: Record<string, { instance: { at: string; status: 'changed' | 'failed'; changed: string[] } }> = {};
      for (const h of plan.summary.hosts) {
        if (h.action === 'no-op') continue;
        const done = applied?.hosts.find((a) => a.host === h.host)?.state === 'done';
        patches[h.host] = { instance: { at: at.toISOString(), status: done ? 'changed' : 'failed', changed: [h.action] } };
      }
      await remember(ctx, lab.root, patches);
      // A created, replaced or destroyed VM is a new machine (or none): its old host key is stale.
      const renewed = plan.summary.hosts.filter((h) => h.action === 'create' || h.action === 'replace' || h.action === 'delete').map((h) => h.host);
      const forgotten = await forgetHostKeys(lab, lab.hosts.filter((h) => renewed.includes(h.name)));
      if (forgotten.length) out.line(out.style('dim', `forgot the old SSH host keys of ${forgotten.join(', ')} (a new VM has a new key)`));
    }
    return { ws, plan, applied };
  } catch (e) {
    if (!o.quiet) printTerraformFailure(ctx, e);
    throw e;
  } finally {
    await planOnly?.dispose();
  }
}

/** Terraform's diagnostics, each with its resource, under the error main() prints. */
function printTerraformFailure(ctx: CommandContext, e: unknown): void {
  const err = e as { code?: string; details?: { diagnostics?: readonly { severity: string; summary: string; detail?: string; address?: string }[]; stderr?: string } };
  if (err.code !== 'TERRAFORM_FAILED' || ctx.global.json) return;
  const { out } = ctx;
  for (const d of err.details?.diagnostics ?? [])
    out.line(`${out.style(d.severity === 'error' ? 'red' : 'yellow', d.severity)}${d.address ? ` ${d.address}` : ''}: ${d.summary}${d.detail ? `\n${d.detail.replace(/^/gm, '    ')}` : ''}`, d.severity === 'error' ? 'error' : 'warn');
  if (err.details?.stderr) out.line(err.details.stderr.replace(/^/gm, '    '), 'error');
}

const DONE: Record<string, string> = { create: 'created', update: 'updated', delete: 'destroyed', replace: 'replaced' };

/** Prints the plan (and what was applied), returns the exit status. */
async function reportL2(ctx: CommandContext, lab: Lab, r: L2Outcome, approve: boolean, verb: string): Promise<number> {
  const { countsText, planLines } = await import('../views/instances.js');
  const { out } = ctx;
  const style = (s: Parameters<typeof out.style>[0], t: string) => out.style(s, t);
  const lines = planLines(lab, r.plan, style);
  out.report([out.style('bold', `${verb}: ${countsText(r.plan)}${approve ? '' : r.plan.summary.changes ? ' (nothing was changed; --approve to apply)' : ''}`), ...lines.map((l) => `  ${l}`)].join('\n'));
  if (r.applied) out.line(out.style('green', `applied in ${seconds(r.applied.durationMs)}: ${r.applied.hosts.map((h) => `${h.host} ${h.state === 'failed' ? 'failed' : (DONE[h.action] ?? h.action)}`).join(', ')}`));
  if (ctx.global.json) out.json({ approved: approve, ok: r.plan.unresolved.length === 0, plan: r.plan.summary, unresolved: r.plan.unresolved, ...(r.applied ? { applied: r.applied } : {}) });
  if (r.plan.unresolved.length) {
    const { plural } = await import('@ahl/core');
    const images = [...new Set(r.plan.unresolved.map((u) => u.template))];
    out.warn(`${r.plan.unresolved.length} ${plural(r.plan.unresolved.length, 'host')} left out: ${images.join(', ')} ${images.length === 1 ? 'names' : 'name'} no built template (ahl image build, or ahl up, builds it)`);
    return 1;
  }
  return 0;
}

export const applyCommand: CommandDef = {
  name: 'apply',
  summary: 'L2: plan the VMs with Terraform (bpg/proxmox) and, with --approve, apply exactly that plan',
  description:
    'Renders the lab\'s VMs as one Terraform root module (.ahl/terraform/main.tf.json), runs terraform (or tofu) plan\n' +
    'and shows per VM what would happen: create, update in place (with the attributes), replace (with the attribute\n' +
    'that forces it) or destroy (a host no longer in the personas), and what was changed outside ahl. With --approve the\n' +
    'saved plan, and nothing else, is applied, with progress per VM. A TARGET limits the plan to its hosts (terraform\n' +
    '-target), and then never destroys anything else. Moving a template channel never replaces existing VMs: the clone\n' +
    'source is read at creation only (`ahl drift` reports the lag). The token reaches Terraform only in its environment.\n' +
    'Exit status: 0 planned or applied; 1 a host was left out (its template is not built); 2 Terraform or ahl failed.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: every VM)' }],
  options: [{ name: 'approve', type: 'boolean', description: 'apply the plan; without it only the plan is shown' }],
  locks: () => true,
  examples: [
    { command: 'ahl apply', description: 'what Terraform would do to every VM (changes nothing)' },
    { command: 'ahl apply docker --approve', description: 'create or update the docker persona\'s VMs' },
    { command: 'ahl apply --json | jq \'.plan.hosts[] | select(.action != "no-op")\'', description: 'the VMs that would change' },
  ],
  async run(ctx) {
    const { selectTargets, vmHosts } = await import('@ahl/core');
    const lab = await loadValidLab(ctx);
    const approve = Boolean(ctx.options.approve);
    const hosts = ctx.positionals.length
      ? selectTargets(lab, vmHosts(lab), ctx.positionals, { command: 'apply', unmanaged: 'is bare metal: it has no VM' }).map((h) => h.name)
      : undefined;
    const r = await l2Run(ctx, lab, await ctx.secrets(lab.root), { ...(hosts ? { hosts } : {}), approve });
    return reportL2(ctx, lab, r, approve, approve ? 'ahl apply' : 'ahl apply: the plan');
  },
};

export const destroyCommand: CommandDef = {
  name: 'destroy',
  summary: 'L2: destroy a host\'s VM with Terraform (--approve); its disks go with it',
  description:
    'Plans `terraform destroy` of the named hosts\' VMs alone (targeted) and shows it; with --approve applies that plan:\n' +
    'the VM is stopped and deleted with its disks. Nothing else in the lab is touched, and the host stays in the personas\n' +
    '(`ahl apply --approve` or `ahl up` would create it again). Take a backup first if the host holds data (`ahl backup`).\n' +
    'Exit status: 0 planned or destroyed; 2 Terraform or ahl failed.',
  positionals: [{ name: 'HOST', description: 'a host (or a persona or group: each of its hosts)' }],
  options: [{ name: 'approve', type: 'boolean', description: 'destroy; without it only the plan is shown' }],
  locks: () => true,
  examples: [
    { command: 'ahl destroy docker-03', description: 'what would be destroyed (changes nothing)' },
    { command: 'ahl destroy docker-03 --approve', description: 'destroy docker-03\'s VM and its disks' },
  ],
  async run(ctx) {
    const { selectTargets, vmHosts } = await import('@ahl/core');
    const lab = await loadValidLab(ctx);
    const approve = Boolean(ctx.options.approve);
    const hosts = selectTargets(lab, vmHosts(lab), ctx.positionals, { command: 'destroy', unmanaged: 'is bare metal: it has no VM' }).map((h) => h.name);
    const r = await l2Run(ctx, lab, await ctx.secrets(lab.root), { hosts, destroy: true, approve });
    return reportL2(ctx, lab, r, approve, approve ? 'ahl destroy' : 'ahl destroy: the plan');
  },
};
