import { ahlError, connectLab, connectLabAsRoot, plural, selectTargets } from '@ahl/core';
import { convergePassthrough, passthroughHosts } from '@ahl/l2-instantiate';
import { rememberPassthrough } from '@ahl/ops';
import type { CommandContext } from '../command.js';
import { loadValidLab } from '../runs/lab-root.js';

/** `ahl passthrough`. */
export async function passthrough(ctx: CommandContext): Promise<number> {
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
  if (approve) await rememberPassthrough(ctx.out.warn, lab, run.hosts);
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
}
