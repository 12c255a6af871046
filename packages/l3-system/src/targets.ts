import { selectTargets, type Host, type Lab } from '@ahl/core';

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
  return selectTargets(lab, systemHosts(lab), targets, {
    command: 'converge system',
    unmanaged: 'has no L3 system to converge (an appliance, or a persona without a system section)',
  });
}
