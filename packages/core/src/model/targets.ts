import { ahlError } from '../errors.js';
import type { Host, Lab } from './lab.js';

/**
 * The hosts that targets name among `managed`, sorted by name; every managed host when there is no
 * target. Each target is a persona (all its managed hosts), an inventory group, or a host. A name that is neither, or
 * that the command does not manage (`unmanaged` says why), is a usage error listing what would do.
 */
export function selectTargets(
  lab: Lab,
  managed: readonly Host[],
  targets: readonly string[],
  opts: { readonly command: string; readonly unmanaged?: string },
): Host[] {
  if (targets.length === 0) return [...managed];
  const chosen = new Map<string, Host>();
  for (const t of targets) {
    const byPersona = managed.filter((h) => h.persona === t);
    const byGroup = managed.filter((h) => h.groups.includes(t));
    const found = byPersona.length ? byPersona : byGroup.length ? byGroup : managed.filter((h) => h.name === t);
    if (!found.length) {
      const known = lab.personas[t] ?? lab.hosts.find((h) => h.name === t || h.groups.includes(t));
      const names = [...new Set([...managed.map((h) => h.persona), ...managed.flatMap((h) => h.groups)])].sort().concat(managed.map((h) => h.name));
      throw ahlError('USAGE', {
        message:
          known && opts.unmanaged
            ? `"${t}" ${opts.unmanaged}`
            : `no persona, group or host named "${t}"; expected one of: ${names.join(', ') || '(none)'}`,
        command: opts.command,
      });
    }
    for (const h of found) chosen.set(h.name, h);
  }
  return [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** A host that is a VM on Proxmox (every host but bare metal), with its node. */
export type VmHost = Host & { readonly runtime: 'vm'; readonly node: string };

/** The hosts that are VMs on Proxmox: bare-metal machines have no node, template or L2. */
export function vmHosts(lab: Lab): VmHost[] {
  return lab.hosts.filter((h): h is VmHost => h.runtime === 'vm' && h.node !== undefined);
}
