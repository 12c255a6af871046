import { selectTargets, type Host, type Lab } from '@ahl/core';

/** The hosts L4 manages: VMs whose persona lists workloads or has a backup policy. */
export function workloadHosts(lab: Lab): Host[] {
  return lab.hosts.filter((h) => h.kind === 'vm' && (h.workloads.length > 0 || h.backup !== undefined));
}

/** A host whose data L4 backs up: a backup policy, or a data directory marked `backup: true`. */
export function backsUp(h: Host): boolean {
  return h.backup !== undefined || h.workloads.some((w) => w.data.some((d) => d.backup));
}

/**
 * The hosts the targets name (personas or hosts), sorted; every workload host when there is none.
 * A name that is neither, or that has no workloads, is a usage error listing what would do.
 */
export function selectWorkloadHosts(lab: Lab, targets: readonly string[] = [], command = 'converge workload'): Host[] {
  return selectTargets(lab, workloadHosts(lab), targets, {
    command,
    unmanaged: 'has no workloads or backup (an appliance, or a persona without workloads)',
  });
}
