import type { CommandDef } from '../command.js';
import { loadValidLab } from '../runs/lab-root.js';

export const passthroughCommand: CommandDef = {
  name: 'passthrough',
  summary: 'L2: converge the physical disks declared on hosts (passthrough) onto their VMs, as root@pam',
  description:
    'Reads each VM\'s config and compares its drives with the host\'s `passthrough` list: a declared disk that is missing\n' +
    'is attached, one attached with other options gets the declared ones, one attached as declared is left alone.\n' +
    'Nothing is ever detached: a device path on the VM that the intent lacks is reported, and so is a slot that holds\n' +
    'another disk or a disk that sits in another slot; those are the operator\'s to resolve. Without --approve only the\n' +
    'plan is shown, with the equivalent `qm set` line. Proxmox lets only root@pam, logged in with its password, give a\n' +
    'VM a device path (API tokens, root@pam!… too, are refused): --approve logs in with proxmox.rootPassword for this\n' +
    'step alone; without one, run the printed `qm set` lines on the node as root.\n' +
    'Exit status: 0 in sync, planned or applied; 1 a conflict, a failure, or changes that need root@pam; 2 ahl could not run.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: every VM)' }],
  options: [{ name: 'approve', type: 'boolean', description: 'make the changes; without it only the plan is shown' }],
  locks: (o) => Boolean(o.approve),
  examples: [
    { command: 'ahl passthrough nas', description: 'what the nas persona\'s VMs lack (dry run)' },
    { command: 'ahl passthrough nas-01 --approve', description: 'attach nas-01\'s declared disks' },
    { command: 'ahl passthrough --json | jq \'.hosts[].actions[] | select(.kind == "unmanaged")\'', description: 'device paths on VMs that no host declares' },
  ],
  async run(ctx) {
    const { ahlError, connectLab, connectLabAsRoot, plural, selectTargets } = await import('@ahl/core');
    const { convergePassthrough, passthroughHosts } = await import('@ahl/l2-instantiate');
    const { out } = ctx;
    const lab = await loadValidLab(ctx);
    const hosts = selectTargets(lab, passthroughHosts(lab), ctx.positionals, { command: 'passthrough' });
    const secrets = await ctx.secrets(lab.root);
    const approve = Boolean(ctx.options.approve);
    const client = await connectLab(lab.config, secrets, lab.root);
    let run;
    try {
      run = await convergePassthrough(lab, client, hosts, { apply: approve, root: () => connectLabAsRoot(lab.config, secrets, lab.root), signal: ctx.signal });
    } finally {
      await client.close();
    }
    if (approve) await (await import('@ahl/ops')).rememberPassthrough(ctx.out.warn, lab, run.hosts);
    const mark = { add: out.style('green', '+'), update: out.style('yellow', '~'), keep: out.style('dim', '='), conflict: out.style('red', '!'), unmanaged: out.style('yellow', '?') } as const;
    for (const h of run.hosts) {
      if (h.state === 'in-sync' && h.actions.length === 0) continue;
      out.line(`${h.host}${h.vmid ? out.style('dim', ` (vmid ${h.vmid} on ${h.node})`) : ''}  ${h.state === 'absent' ? out.style('dim', 'no VM yet: its disks are attached once it exists') : h.state}`);
      for (const a of h.actions) {
        const what =
          a.kind === 'add' ? `attach ${a.value}` :
          a.kind === 'update' ? `set ${a.value} (was ${a.current})` :
          a.kind === 'keep' ? `${a.device} as declared` :
          a.kind === 'conflict' ? `${a.device}: ${a.reason}` :
          `${a.current} is not declared; left attached`;
        out.line(`  ${mark[a.kind]} ${a.slot}  ${what}`);
      }
      if (h.pending.length) out.warn(`  ${h.pending.join(', ')} ${h.pending.length === 1 ? 'waits' : 'wait'} for the next boot (ahl power reboot ${h.host} --approve)`);
      if (h.error) out.line(out.style('red', `  ✗ ${h.error}`), 'error');
      if (h.qmSet && (!approve || run.needsRoot.includes(h.host) || h.state === 'failed')) out.line(out.style('dim', `  by hand, as root on ${h.node}: ${h.qmSet}`));
    }
    const count = (s: string) => run.hosts.filter((h) => h.state === s).length;
    const planned = count('planned') + run.hosts.filter((h) => h.state === 'conflict' && h.qmSet).length;
    if (ctx.global.json) out.json({ approved: approve, ...run });
    if (run.needsRoot.length) throw ahlError('PASSTHROUGH_NEEDS_ROOT', { hosts: run.needsRoot.join(', ') });
    if (!approve) out.warn(`dry run: ${planned} ${plural(planned, 'VM')} would change; nothing was changed (--approve to act)`);
    else
      out.line(
        [`${count('applied')} ${plural(count('applied'), 'VM')} changed`, `${count('in-sync')} in sync`, ...(count('conflict') ? [`${count('conflict')} with a conflict`] : []), ...(count('failed') ? [`${count('failed')} failed`] : [])].join(', '),
      );
    return count('conflict') + count('failed') > 0 ? 1 : 0;
  },
};
