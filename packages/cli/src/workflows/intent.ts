import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Host, Lab } from '@ahl/core';

/*
 * What a host's layer was converged from, as one digest: the host's rendered variables, the files
 * they point at (stacks) and the bundled content of the layer. Recorded with each converge, it lets
 * `ahl drift` tell "the intent changed since" from "somebody changed the host".
 */

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

/** sha256 over the sorted (path, sha256 of content) list of every file under `dir`. */
export async function treeDigest(dir: string): Promise<string> {
  const entries: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let names;
    try {
      names = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of names) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) entries.push(`${relative(dir, p)}\0${sha256(await readFile(p))}`);
    }
  };
  await walk(dir);
  return sha256(entries.sort().join('\n'));
}

const contentDigests = new Map<string, Promise<string>>();
const content = (dir: string) => {
  if (!contentDigests.has(dir)) contentDigests.set(dir, treeDigest(dir));
  return contentDigests.get(dir)!;
};

/** The digest of what `converge system` applies to the host. */
export async function systemIntent(lab: Lab, host: Host): Promise<string> {
  const { ANSIBLE_DIR, hostVars } = await import('@ahl/l3-system');
  return sha256(JSON.stringify([hostVars(lab, host), await content(ANSIBLE_DIR)]));
}

/** The digest of what `converge workload` deploys to the host: its workloads, backup policy, stack folders and the L4 content. */
export async function workloadIntent(lab: Lab, host: Host): Promise<string> {
  const { WORKLOAD_ANSIBLE_DIR } = await import('@ahl/l4-workload');
  const stacks = await Promise.all(host.workloads.map(async (w) => [w.stack, lab.stacks[w.stack] ? await treeDigest(join(lab.root, lab.stacks[w.stack]!.dir)) : '']));
  return sha256(JSON.stringify([host.workloads, host.backup ?? null, lab.config.workloads ?? null, lab.config.backup ?? null, stacks, await content(WORKLOAD_ANSIBLE_DIR)]));
}

/** The digest of the passthrough disks `ahl passthrough` converges onto the host's VM. */
export function passthroughIntent(host: Host): string {
  return sha256(JSON.stringify(host.passthrough));
}
