import type { Lab } from '@ahl/core';
import type { AttributeChange, HostPlan, L2Plan } from '@ahl/l2-instantiate';

/* L2's plan in words, as `ahl up`'s items, `ahl reconcile`'s details and the CLI's plan view say it. Pure. */

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
export const changeText = (c: AttributeChange) => `${c.path}: ${'before' in c ? show(c.before) : '(none)'} → ${'after' in c ? show(c.after) : '(none)'}`;

/** What a VM about to be created will be: where, how big, from which template. */
export function createText(lab: Lab, plan: L2Plan, host: string): string {
  const h = lab.hosts.find((x) => x.name === host);
  if (!h) return '';
  const r = h.resources;
  const t = plan.rendered.find((x) => x.host === host)?.template;
  return `${h.vmid !== undefined ? `vmid ${h.vmid} ` : ''}on ${h.node}, ${r.cores} ${r.cores === 1 ? 'core' : 'cores'}, ${r.memory} MiB, ${r.disk} GiB${t ? `, from ${t.ref} (${t.version})` : ''}`;
}

/** A short item per VM, as `ahl up` lists them. */
export function planItem(lab: Lab, plan: L2Plan, h: HostPlan): string {
  if (h.adopt) return `${h.host}: adopt the existing VM ${h.adopt} into Terraform's state${h.action === 'update' ? `, then update ${h.changes.map(changeText).join('; ')}` : ''}`;
  if (h.action === 'create') return `${h.host}: create (${createText(lab, plan, h.host)})`;
  if (h.action === 'no-op') return `${h.host}: in sync${h.drift.length ? ' (Terraform refreshed a change made outside ahl)' : ''}`;
  if (h.action === 'update') return `${h.host}: update ${h.changes.map(changeText).join('; ')}`;
  if (h.action === 'replace') return `${h.host}: replace (${h.replaceBecause.join(', ') || 'forced'})`;
  return `${h.host}: destroy`;
}
