import { join } from 'node:path';
import { sha256, treeDigest, type Host, type Lab } from '@ahl/core';
import { WORKLOAD_ANSIBLE_DIR } from './content.js';

let content: Promise<string> | undefined;

/**
 * The digest of what a deploy applies to a host: its rendered variables (stacks, environment with
 * the secrets' values, backup), the content of its stack folders and the bundled content. Recorded
 * on the host (root only) after a full deploy, it lets `ahl up` leave a host alone that nothing was
 * changed for. A one-way hash: no secret can be read back from it.
 */
export async function workloadDigest(hostVars: string, stackDirs: readonly string[]): Promise<string> {
  content ??= treeDigest(WORKLOAD_ANSIBLE_DIR);
  return sha256(JSON.stringify([hostVars, await Promise.all(stackDirs.map((d) => treeDigest(d))), await content]));
}

/**
 * The intent this machine records with a deploy (for `ahl drift`): the host's workloads and backup
 * policy, the lab's workload and backup settings, its stack folders and the bundled content.
 * Unlike `workloadDigest` it needs no secret, so drift can compute it without resolving any.
 */
export async function workloadIntent(lab: Lab, host: Host): Promise<string> {
  content ??= treeDigest(WORKLOAD_ANSIBLE_DIR);
  const stacks = await Promise.all(host.workloads.map(async (w) => [w.stack, lab.stacks[w.stack] ? await treeDigest(join(lab.root, lab.stacks[w.stack]!.dir)) : '']));
  return sha256(JSON.stringify([host.workloads, host.backup ?? null, lab.config.workloads ?? null, lab.config.backup ?? null, stacks, await content]));
}
