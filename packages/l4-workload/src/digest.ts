import { sha256, treeDigest } from '@ahl/core';
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
