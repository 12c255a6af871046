import { ahlError, type Host, type Lab } from '@ahl/core';

/** The hosts L4 manages: VMs whose persona lists workloads or has a backup policy. */
export function workloadHosts(lab: Lab): Host[] {
  return lab.hosts.filter((h) => h.kind === 'vm' && (h.workloads.length > 0 || h.backup !== undefined));
}

/**
 * The hosts the targets name (personas or hosts), sorted; every workload host when there is none.
 * A name that is neither, or that has no workloads, is a usage error listing what would do.
 */
export function selectWorkloadHosts(lab: Lab, targets: readonly string[] = [], command = 'converge workload'): Host[] {
  const managed = workloadHosts(lab);
  if (targets.length === 0) return managed;
  const chosen = new Map<string, Host>();
  for (const t of targets) {
    const byPersona = managed.filter((h) => h.persona === t);
    const found = byPersona.length ? byPersona : managed.filter((h) => h.name === t);
    if (!found.length) {
      const known = lab.personas[t] ?? lab.hosts.find((h) => h.name === t);
      const names = [...new Set(managed.map((h) => h.persona))].sort().concat(managed.map((h) => h.name));
      throw ahlError('USAGE', {
        message: known
          ? `"${t}" has no workloads or backup (an appliance, or a persona without workloads)`
          : `no persona or host named "${t}"; expected one of: ${names.join(', ') || '(none)'}`,
        command,
      });
    }
    for (const h of found) chosen.set(h.name, h);
  }
  return [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name));
}
