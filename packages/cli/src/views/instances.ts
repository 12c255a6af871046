import type { Lab } from '@ahl/core';
import type { HostAction, L2Plan } from '@ahl/l2-instantiate';
import { changeText, createText } from '@ahl/ops';

/*
 * L2's plan for people: a line per VM, what Terraform would do to it and why, destructive actions
 * first. Pure: from the lab and the summary of a saved plan.
 */

type Style = (s: 'green' | 'yellow' | 'red' | 'dim' | 'cyan' | 'bold', t: string) => string;

const ORDER: Record<HostAction, number> = { delete: 0, replace: 1, create: 2, update: 3, 'no-op': 4 };
const MARK: Record<HostAction, string> = { delete: '-', replace: '±', create: '+', update: '~', 'no-op': '=' };
const WORD: Record<HostAction, string> = { delete: 'destroy', replace: 'replace', create: 'create', update: 'update in place', 'no-op': 'no changes' };
const COLOUR: Record<HostAction, 'red' | 'green' | 'yellow' | 'dim'> = { delete: 'red', replace: 'red', create: 'green', update: 'yellow', 'no-op': 'dim' };

/** A line (and the changes under it) for each VM in the plan, destructive ones first. */
export function planLines(lab: Lab, plan: L2Plan, style: Style = (_s, t) => t): string[] {
  const lines: string[] = [];
  const hosts = [...plan.summary.hosts].sort((a, b) => ORDER[a.action] - ORDER[b.action] || a.host.localeCompare(b.host));
  for (const h of hosts) {
    const reason = h.action === 'replace' && h.replaceBecause.length ? ` (because ${h.replaceBecause.join(', ')} cannot change in place)` : '';
    const what = h.action === 'create' ? `  ${style('dim', createText(lab, plan, h.host))}` : '';
    const adopt = h.adopt ? `${style('cyan', `adopt the existing VM ${h.adopt}`)}${h.action === 'no-op' ? '' : ', then '}` : '';
    const word = h.adopt && h.action === 'no-op' ? '' : style(COLOUR[h.action], WORD[h.action]);
    lines.push(`${style(h.adopt ? 'cyan' : COLOUR[h.action], h.adopt ? '↓' : MARK[h.action])} ${h.host}  ${adopt}${word}${reason}${what}`);
    for (const c of h.action === 'update' || h.action === 'replace' ? h.changes : []) lines.push(`    ${changeText(c)}`);
    for (const r of h.resizes)
      lines.push(
        r.to > r.from
          ? style('yellow', `    disk ${r.slot} grows in place: ${r.from} → ${r.to} GiB (the guest's filesystem is grown by L3)`)
          : style('red', `    disk ${r.slot} would shrink: ${r.from} → ${r.to} GiB, which Proxmox refuses; apply stops before changing anything`),
      );
    if (h.drift.length) lines.push(style('yellow', `    changed outside ahl: ${h.drift.map(changeText).join('; ')}`));
  }
  for (const u of plan.unresolved) lines.push(`${style('red', '!')} ${u.host}  ${style('red', `cannot be planned: ${u.template} names no built template`)}`);
  return lines;
}

/** "2 to create, 1 to update", or "no changes". */
export function countsText(plan: L2Plan): string {
  const c = plan.summary.counts;
  const parts = [
    ...(c.create ? [`${c.create} to create`] : []),
    ...(c.update ? [`${c.update} to update in place`] : []),
    ...(c.replace ? [`${c.replace} to replace`] : []),
    ...(c.delete ? [`${c.delete} to destroy`] : []),
  ];
  const adopt = plan.summary.hosts.filter((h) => h.adopt).length;
  if (adopt) parts.unshift(`${adopt} to adopt`);
  return parts.length ? parts.join(', ') : 'no changes';
}
