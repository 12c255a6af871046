import { join } from 'node:path';
import { sha256, treeDigest, type Host, type Lab } from '@ahl/core';
import { systemDigest } from '@ahl/l3-system';
import { WORKLOAD_ANSIBLE_DIR } from '@ahl/l4-workload';

/*
 * What a host's layer was converged from, as one digest: the host's rendered variables, the files
 * they point at (stacks) and the bundled content of the layer. Recorded with each converge, it lets
 * `ahl drift` tell "the intent changed since" from "somebody changed the host".
 */

const contentDigests = new Map<string, Promise<string>>();
const content = (dir: string) => {
  if (!contentDigests.has(dir)) contentDigests.set(dir, treeDigest(dir));
  return contentDigests.get(dir)!;
};

/** The digest of what `converge system` applies to the host (L3's own, also recorded on the host). */
export async function systemIntent(lab: Lab, host: Host): Promise<string> {
  return systemDigest(lab, host);
}

/** The digest of what `converge workload` deploys to the host: its workloads, backup policy, stack folders and the L4 content. */
export async function workloadIntent(lab: Lab, host: Host): Promise<string> {
  const stacks = await Promise.all(host.workloads.map(async (w) => [w.stack, lab.stacks[w.stack] ? await treeDigest(join(lab.root, lab.stacks[w.stack]!.dir)) : '']));
  return sha256(JSON.stringify([host.workloads, host.backup ?? null, lab.config.workloads ?? null, lab.config.backup ?? null, stacks, await content(WORKLOAD_ANSIBLE_DIR)]));
}

/** The digest of the passthrough disks `ahl passthrough` converges onto the host's VM. */
export function passthroughIntent(host: Host): string {
  return sha256(JSON.stringify(host.passthrough));
}
