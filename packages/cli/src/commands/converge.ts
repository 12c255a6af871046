import type { Lab, Secrets } from '@ahl/core';
import type { ConvergeResult } from '@ahl/l3-system';
import type { CommandContext, CommandDef } from '../command.js';
import { ansibleFailure, ansibleReporter, summariseRun } from './ansible.js';
import { loadValidLab } from './lab-root.js';

export const convergeSystemCommand: CommandDef = {
  name: 'converge system',
  locks: (o) => !o.check,
  summary: 'converge the OS of hosts with Ansible (users, packages, sshd, firewall, services, monitoring, Docker, the lab\'s roles)',
  description:
    'Renders the Ansible inventory from the lab and runs the bundled playbook with ansible-playbook on every host of\n' +
    'the persona or the host named (default: every host with a system section), in parallel, with live progress per\n' +
    'host. --check reports drift (what would change, with diffs) and changes nothing. Hosts are reached over SSH as\n' +
    'lab.yaml\'s ssh section says; hostKeyPolicy accept-new trusts a new host key once and refuses a changed one.\n' +
    'The lab\'s own roles and task files (a persona\'s system.roles) run after ahl\'s, in order, each with its tag.\n' +
    'Exit 1 when a host failed or was unreachable, or when --check found drift.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona or a host (default: all)' }],
  options: [
    { name: 'check', type: 'boolean', description: 'report drift with diffs; change nothing' },
    {
      name: 'tags',
      type: 'string',
      value: 'TAGS',
      description:
        'only these roles, comma-separated: base, sysctl, swap, mounts, container_engine, users, sshd, firewall, files, unattended_upgrades, monitoring, services, or the tag of one of the lab\'s roles',
    },
    { name: 'forks', type: 'string', value: 'N', description: 'hosts converged at once (default: all selected, at most 20)' },
  ],
  examples: [
    { command: 'ahl converge system devops', description: 'converge every host of the devops persona' },
    { command: 'ahl converge system docker-01 --check', description: 'show what would change on one host (drift), changing nothing' },
    { command: 'ahl converge system --tags users,sshd', description: 'only the users and sshd roles, on every host' },
    { command: 'ahl converge system devops --tags motd', description: 'only the lab\'s own role tagged motd (system.roles), on the devops hosts' },
    { command: 'ahl converge system --json | jq \'.hosts[] | select(.status != "ok")\'', description: 'machine-readable per-host results' },
  ],
  async run(ctx) {
    const { ahlError } = await import('@ahl/core');
    const { systemTags } = await import('@ahl/l3-system');
    const { out } = ctx;
    const lab = await loadValidLab(ctx);
    const root = lab.root;
    const tags = typeof ctx.options.tags === 'string' ? ctx.options.tags.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
    const known = systemTags(lab);
    const badTag = tags?.find((t) => !known.includes(t));
    if (badTag) throw ahlError('USAGE', { message: `unknown tag "${badTag}"; expected ${known.join(', ')}`, command: 'converge system' });
    const forks = typeof ctx.options.forks === 'string' ? Number(ctx.options.forks) : undefined;
    if (forks !== undefined && !(Number.isInteger(forks) && forks > 0)) throw ahlError('USAGE', { message: '--forks must be a positive whole number', command: 'converge system' });
    const check = Boolean(ctx.options.check);
    const secrets = await ctx.secrets(root);
    try {
      const { code, result } = await systemRun(ctx, lab, secrets, { ...(ctx.positionals[0] ? { targets: [ctx.positionals[0]] } : {}), check, ...(tags ? { tags } : {}), ...(forks ? { forks } : {}) });
      if (ctx.global.json) out.json({ ...result, ok: code === 0 });
      return code;
    } catch (e) {
      return ansibleFailure(ctx, e);
    }
  },
};

/**
 * One L3 run (a converge, or with check a drift check) with live progress, a line per host and a
 * summary, remembered for `ahl status` (unless limited by tags). Exit 1 when a host failed or was
 * unreachable, or a check found drift. Shared by `converge system` and `up`.
 */
export async function systemRun(
  ctx: CommandContext,
  lab: Lab,
  secrets: Secrets,
  opts: { targets?: string[]; check: boolean; tags?: string[]; forks?: number; waitHosts?: readonly string[]; skipUnchanged?: boolean },
  summary = true,
): Promise<{ code: number; result: ConvergeResult }> {
  const { convergeSystem } = await import('@ahl/l3-system');
  const { out } = ctx;
  const { check, tags } = opts;
  const r = await convergeSystem(lab, { ...opts, redactor: secrets.redactor, env: ctx.env, reporter: ansibleReporter(out, check ? 'drift' : 'changed') });
  for (const h of r.hosts) {
    const state = h.status === 'ok' ? out.style('green', '✓') : h.status === 'changed' ? out.style('yellow', check ? '≠' : '✓') : out.style('red', '✗');
    const what =
      h.status === 'unreachable'
        ? `unreachable: ${h.unreachable?.split('\n')[0] ?? ''}`
        : h.unchanged
          ? 'unchanged since its last converge'
          : `ok=${h.counts.ok} changed=${h.counts.changed} failed=${h.counts.failed} skipped=${h.counts.skipped}`;
    out.line(`${state} ${h.host}  ${what}`);
    if (check) for (const c of h.changed) out.line(`    ${c.task}${c.diff ? `\n${c.diff.replace(/^/gm, '      ')}` : ''}`);
  }
  // A converge limited by --tags did not look at every role: it says nothing of the host as a whole.
  if (!tags) await (await import('@ahl/ops')).rememberLayer(ctx.out.warn, lab, 'system', check, r.hosts);
  return { code: await summariseRun(out, r.hosts, check, summary, { found: 'drift found', none: 'no drift', did: 'converged', again: 'converge' }), result: r };
}
