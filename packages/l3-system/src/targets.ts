import { ahlError, type Host, type Lab } from '@ahl/core';

/** The hosts L3 converges: VMs whose persona has a `system` section (appliances have no L3). */
export function systemHosts(lab: Lab): Host[] {
  return lab.hosts.filter((h) => h.kind === 'vm' && h.system !== undefined);
}

/**
 * The hosts a target names, sorted by name: every system host when there is no target, else each
 * target is a persona (all its hosts) or a host. A name that is neither, or that L3 does not manage,
 * is a usage error listing what would have been accepted.
 */
export function selectHosts(lab: Lab, targets: readonly string[] = []): Host[] {
  const managed = systemHosts(lab);
  if (targets.length === 0) return managed;
  const chosen = new Map<string, Host>();
  for (const t of targets) {
    const byPersona = managed.filter((h) => h.persona === t);
    const byHost = managed.filter((h) => h.name === t);
    const found = byPersona.length ? byPersona : byHost;
    if (!found.length) {
      const known = lab.personas[t] ?? lab.hosts.find((h) => h.name === t);
      const names = [...new Set(managed.map((h) => h.persona))].sort().concat(managed.map((h) => h.name));
      throw ahlError('USAGE', {
        message: known
          ? `"${t}" has no L3 system to converge (an appliance, or a persona without a system section)`
          : `no persona or host named "${t}"; expected one of: ${names.join(', ') || '(none)'}`,
        command: 'converge system',
      });
    }
    for (const h of found) chosen.set(h.name, h);
  }
  return [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name));
}
