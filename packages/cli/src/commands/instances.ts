import type { Lab } from '@ahl/core';
import type { L2Outcome } from '@ahl/l2-instantiate';
import type { CommandContext, CommandDef } from '../command.js';
import { loadValidLab } from '../runs/lab-root.js';
import { l2Run } from '../runs/layers.js';

/*
 * L2 on its own: `ahl apply` plans the VMs with Terraform and applies exactly that plan, `ahl destroy`
 * removes one VM. `ahl up` runs the same steps as its L2 layer.
 */

const DONE: Record<string, string> = { create: 'created', update: 'updated', delete: 'destroyed', replace: 'replaced' };

/** Prints the plan (and what was applied), returns the exit status. */
async function reportL2(ctx: CommandContext, lab: Lab, r: L2Outcome, approve: boolean, verb: string): Promise<number> {
  const { countsText, planLines } = await import('../views/instances.js');
  const { seconds } = await import('@ahl/ops');
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
