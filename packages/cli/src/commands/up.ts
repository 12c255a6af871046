import type { Host, Lab, ProxmoxClient, Secrets } from '@ahl/core';
import type { L2Outcome, L2Plan } from '@ahl/l2-instantiate';
import type { AnsibleHost, UpLayer, UpPlan, UpState, UpStep } from '@ahl/ops';
import type { CommandContext, CommandDef, OptionDef } from '../command.js';
import { hostTrouble } from '../views/up.js';
import { printAnsibleFailure } from '../runs/ansible.js';
import { progressReporter, restoreCaptureLazily } from '../runs/image.js';
import { l2Run, systemRun, workloadRun } from '../runs/layers.js';
import { loadValidLab } from '../runs/lab-root.js';

/** What one layer came to: its state, what it did or would do, and a note when it stops the run. */
type Outcome = { state: UpState; items: string[]; note?: string; created?: string[] };

const FORMAT_OPTION: OptionDef = { name: 'format', type: 'string', value: 'text|markdown', description: 'text for a terminal (default), or markdown on stdout for a pull-request comment' };

export const upCommand: CommandDef = {
  name: 'up',
  summary: 'bring hosts to their intent, layer by layer: runway, templates, VMs, system, workloads',
  description:
    'Runs the layers in order for the hosts of TARGET (default: the whole lab), stopping at the first that fails:\n' +
    '  L0  the runway checks (a FAIL stops here)\n' +
    '  L1  only the templates that are missing: a cloud image is built, an appliance restored from its newest capture\n' +
    '  L2  VMs with Terraform (as `ahl apply`, targeted to the hosts): missing VMs are created, settings updated in\n' +
    '      place, existing VMs not in the state adopted; a plan that would replace or destroy a VM stops up (that is\n' +
    '      `ahl apply HOST --approve`, after a backup). Then passthrough disks onto the VMs\n' +
    '  L3  `converge system` on every host it manages that exists (bare metal included); VMs L2 just created are\n' +
    '      waited for (SSH, then cloud-init) first. A host whose last full converge recorded the intent it gets now\n' +
    '      is left alone (seconds instead of a full run): hand-made drift is `ahl drift`/`ahl converge`\'s to find and undo\n' +
    '  L4  `converge workload` likewise, and a host left alone also needs every stack running (stacks no longer\n' +
    '      declared are listed, never removed: use converge workload --approve)\n' +
    'Without --approve nothing is changed: the runway runs, then each layer says what it would do, L3 and L4 with\n' +
    'Ansible --check on the hosts that exist. Ctrl-C stops after the step in hand; the summary says what was done.\n' +
    'Exit status: 0 all layers done (or planned), 1 a layer failed or is blocked, 2 ahl could not run, 130 interrupted.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: every host)' }],
  options: [{ name: 'approve', type: 'boolean', description: 'apply; without it only the plan of every layer is shown' }, FORMAT_OPTION],
  locks: (o) => Boolean(o.approve),
  examples: [
    { command: 'ahl up', description: 'the plan for the whole lab, layer by layer (changes nothing)' },
    { command: 'ahl up docker --approve', description: 'bring the docker persona up: templates, VMs, OS, stacks' },
    { command: 'ahl up --approve --json | jq \'.layers[] | select(.state == "failed")\'', description: 'which layer stopped the run' },
  ],
  run: (ctx) => runUp(ctx, Boolean(ctx.options.approve)),
};

/** `ahl up` (and `ahl plan`, which never applies): the layers in order, each reported. */
async function runUp(ctx: CommandContext, approve: boolean): Promise<number> {
  const { ahlError, connectLab, selectTargets } = await import('@ahl/core');
  const { UP_LAYERS } = await import('@ahl/ops');
  const { renderUp, renderUpMarkdown } = await import('../views/up.js');
  const { out } = ctx;
  const format = ctx.options.format ?? 'text';
  if (format !== 'text' && format !== 'markdown') throw ahlError('USAGE', { message: `unknown format "${String(format)}"; expected text or markdown`, command: approve ? 'up' : 'plan' });
  const lab = await loadValidLab(ctx);
  const selected = selectTargets(lab, lab.hosts, ctx.positionals, { command: 'up' });
  const secrets = await ctx.secrets(lab.root);
  const steps: UpStep[] = [];
  const client = await connectLab(lab.config, secrets, lab.root);
  let stopped = false;
  try {
    let plan: UpPlan | undefined;
    for (const { layer, name } of UP_LAYERS) {
      if (stopped || ctx.signal.aborted) {
        steps.push({ layer, name, state: 'not run', items: [] });
        continue;
      }
      out.progress({ step: `${layer} ${name}`, status: 'start' }, out.style('bold', `${layer} ${name}`));
      let o: Outcome;
      // The runway of what the target needs: its nodes, storage, templates and conflicts.
      if (layer === 'L0') o = await runway(ctx, { ...lab, hosts: selected }, client);
      else {
        plan ??= await planFor(lab, secrets, selected);
        o = await LAYER_RUNS[layer](ctx, lab, client, secrets, plan, approve);
        // VMs L2 just created are L3's and L4's now; L3 waits for their first boot.
        if (o.created?.length) plan = withCreated(plan, o.created);
      }
      const { created: _created, ...done } = o;
      steps.push({ layer, name, ...done });
      out.progress({ step: `${layer} ${name}`, status: o.state === 'failed' || o.state === 'blocked' ? 'failed' : o.state === 'done' ? 'changed' : 'ok', detail: o.state }, undefined);
      // An apply stops at the first layer that fails or is blocked; a plan goes on to show the rest,
      // unless the runway itself failed.
      if (approve ? o.state === 'failed' || o.state === 'blocked' : layer === 'L0' && o.state === 'failed') stopped = true;
    }
  } finally {
    await client.close();
  }
  if (format === 'markdown') out.result(renderUpMarkdown(lab.name, steps, approve, ctx.positionals[0]));
  else out.report(renderUp(steps, approve, (s, t) => out.style(s, t)).trimEnd());
  const ok = !steps.some((s) => s.state === 'failed' || s.state === 'blocked' || (approve && s.state === 'not run'));
  if (ctx.global.json && format !== 'markdown') out.json({ approved: approve, ok, layers: steps });
  return ok ? 0 : 1;
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
  const { connectLab } = await import('@ahl/core');
  const { gatherStatus, planUp } = await import('@ahl/ops');
  const { systemHosts } = await import('@ahl/l3-system');
  const { workloadHosts } = await import('@ahl/l4-workload');
  const status = await gatherStatus(lab, () => connectLab(lab.config, secrets, lab.root));
  return planUp(lab, selected, status, { system: systemHosts(lab), workload: workloadHosts(lab) });
}

async function runway(ctx: CommandContext, lab: Lab, client: ProxmoxClient): Promise<Outcome> {
  const { runRunway } = await import('@ahl/l0-runway');
  const { out } = ctx;
  const r = await runRunway(lab, client);
  // A person sees what is not PASS; the full report is `ahl runway`.
  for (const c of r.checks.filter((x) => x.status !== 'PASS')) out.line(`  ${out.style(c.status === 'FAIL' ? 'red' : 'yellow', c.status)} ${c.id}: ${c.reason}${c.hint ? out.style('dim', ` (${c.hint})`) : ''}`, c.status === 'FAIL' ? 'error' : 'warn');
  const items = [`${r.summary.pass} passed, ${r.summary.warn} warned, ${r.summary.fail} failed`];
  return r.status === 'FAIL' ? { state: 'failed', items, note: 'the runway failed: fix what it says (details: ahl runway)' } : { state: 'ok', items };
}

type LayerRun = (ctx: CommandContext, lab: Lab, client: ProxmoxClient, secrets: Secrets, plan: UpPlan, approve: boolean) => Promise<Outcome>;

const LAYER_RUNS: Record<Exclude<UpLayer, 'L0'>, LayerRun> = {
  async L1(ctx, lab, client, secrets, plan, approve) {
    if (!plan.images.length) return { state: 'ok', items: ['every template the hosts follow is built'] };
    const what = (i: UpPlan['images'][number]) => `${i.kind === 'appliance' ? 'restore' : 'build'} ${i.image} for ${i.channels.join(', ')} (${i.hosts.join(', ')})`;
    if (!approve) return { state: 'planned', items: plan.images.map(what) };
    const { manifestForChannel, readImageRecords } = await import('@ahl/core');
    const { buildTemplate } = await import('@ahl/l1-image');
    const { VERSION } = await import('../main.js');
    const items: string[] = [];
    for (const i of plan.images) {
      if (ctx.signal.aborted) return { state: 'failed', items, note: 'interrupted' };
      const reporter = progressReporter(ctx.out);
      let failure: string | undefined;
      if (i.kind === 'cloud') {
        const r = await buildTemplate(lab, client, i.image, { toolVersion: VERSION, reporter });
        if (r.outcome === 'failed') failure = `the ${r.step} step failed: ${r.message}`;
        else items.push(r.outcome === 'built' ? `built ${r.manifest.templateName} (vmid ${r.manifest.vmid})` : r.reason);
      } else {
        const r = await restoreCaptureLazily(lab, client, async () => secrets, i.image, { reporter });
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

  async L2(ctx, lab, client, secrets, plan, approve) {
    const { connectLabAsRoot, plural } = await import('@ahl/core');
    const { planItem } = await import('../views/instances.js');
    const vms = [...plan.existing.map((e) => e.host), ...plan.create].sort();
    if (!vms.length) return { state: 'ok', items: ['no VM among the selected hosts'] };
    const items: string[] = [];
    let state: UpState = 'ok';
    // Terraform: create what is missing, update what differs. Never a replacement or a destroy:
    // those lose a VM's disks, and are `ahl apply HOST --approve` (or `ahl rebuild`) after a backup.
    const destructive = (p: L2Plan) => p.summary.hosts.filter((h) => h.action === 'replace' || h.action === 'delete').map((h) => h.host);
    let r: L2Outcome;
    try {
      r = await l2Run(ctx, lab, secrets, { hosts: vms, approve: approve ? (p) => destructive(p).length === 0 : false, client });
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
    if (approve && r.plan.unresolved.length) return { state: 'failed', items, note: `${r.plan.unresolved.map((u) => u.template).join(', ')} still names no template: promote one (ahl image list)` };
    const created = r.applied ? r.plan.summary.hosts.filter((h) => h.action === 'create').map((h) => h.host) : [];
    if (r.applied) state = 'done';
    else if (r.plan.summary.changes || r.plan.unresolved.length) state = 'planned';
    // Passthrough disks, onto the VMs that exist now.
    const withDisks = lab.hosts.filter((h) => h.passthrough.length > 0 && (plan.passthrough.includes(h.name) || created.includes(h.name)));
    if (withDisks.length) {
      const { convergePassthrough } = await import('@ahl/l2-instantiate');
      const run = await convergePassthrough(lab, client, withDisks, { apply: approve, root: () => connectLabAsRoot(lab.config, secrets, lab.root), signal: ctx.signal });
      if (approve) await (await import('@ahl/ops')).rememberPassthrough(ctx.out.warn, lab, run.hosts);
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

  async L3(ctx, lab, _client, secrets, plan, approve) {
    const later = plan.systemLater.length ? [`after L2: ${plan.systemLater.join(', ')}`] : [];
    if (!plan.system.length) return { state: 'ok', items: [...later, ...(later.length ? [] : ['no selected host has a system section'])] };
    return ansibleLayer(ctx, approve, later, 'converge', async (check) => (await systemRun(ctx, lab, secrets, { targets: [...plan.system], check, skipUnchanged: true, ...(plan.fresh?.length ? { waitHosts: plan.fresh.filter((h) => plan.system.includes(h)) } : {}) }, false)).result.hosts);
  },

  async L4(ctx, lab, _client, secrets, plan, approve) {
    const later = plan.workloadLater.length ? [`after L2: ${plan.workloadLater.join(', ')}`] : [];
    if (!plan.workload.length) return { state: 'ok', items: [...later, ...(later.length ? [] : ['no selected host has workloads'])] };
    return ansibleLayer(ctx, approve, later, 'deploy', async (check) => (await workloadRun(ctx, lab, secrets, { targets: [...plan.workload], check, approve: false, skipUnchanged: true }, false)).result.hosts);
  },
};

/** L3 or L4 through Ansible: with approve the converge, else a --check that says what would change. */
async function ansibleLayer(
  ctx: CommandContext,
  approve: boolean,
  later: string[],
  verb: string,
  run: (check: boolean) => Promise<readonly AnsibleHost[]>,
): Promise<Outcome> {
  let hosts;
  try {
    hosts = await run(!approve);
  } catch (e) {
    await printAnsibleFailure(ctx, e);
    return { state: 'failed', items: later, note: (e as Error).message };
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

export const planCommand: CommandDef = {
  name: 'plan',
  summary: 'what `ahl up` would do, layer by layer; changes nothing (--format markdown for a review comment)',
  description:
    '`ahl up` without --approve: runs the runway, then says per layer what it would do — the templates to build,\n' +
    'Terraform\'s plan of the VMs (L2) and passthrough disks to attach, and what L3 and L4 would change on the hosts that\n' +
    'exist (Ansible --check). Needs the Proxmox API and SSH to the hosts, as up does. --format markdown prints the plan\n' +
    'on stdout for a pull-request comment, what needs attention first.\n' +
    'Exit status: 0 the plan can be applied, 1 a layer would fail or is blocked, 2 ahl could not run.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: every host)' }],
  options: [FORMAT_OPTION],
  examples: [
    { command: 'ahl plan', description: 'the plan for the whole lab' },
    { command: 'ahl plan docker --format markdown > plan.md', description: 'the docker persona\'s plan, as a review comment' },
  ],
  run: (ctx) => runUp(ctx, false),
};
