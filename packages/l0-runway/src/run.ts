import { nodeShell, readImageRecords, type ImageRecords, type Lab, type NodeShell, type ProxmoxClient } from '@ahl/core';
import { planRunway, shellNodes, type RunwayReport } from './checks.js';
import { gatherFacts, type ShellFact } from './facts.js';

/** Asks a node's shell who it is and whether qemu-img is there; never throws. */
export async function shellFact(shell: NodeShell): Promise<ShellFact> {
  try {
    const [user = '', qemuImg = ''] = (await shell.run('id -un; command -v qemu-img || true')).split('\n');
    return { ok: true, where: shell.where, user: user.trim(), qemuImg: qemuImg.trim() !== '' };
  } catch (e) {
    return { ok: false, where: shell.where, reason: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Reads the facts and the lab's template records, then checks. Read-only on the server and on disk.
 * When captures go to the store, each node that runs an appliance is asked over its shell (`shell`
 * opens it; core's nodeShell by default) who it is and whether it has qemu-img.
 */
export async function runRunway(lab: Lab, client: ProxmoxClient, opts: { shell?: (node: string) => NodeShell } = {}): Promise<RunwayReport & { readonly calls: number }> {
  const before = client.callCount;
  const images = [...new Set(lab.hosts.map((h) => h.template.image))].sort();
  const open = opts.shell ?? ((node: string) => nodeShell(lab, node));
  const asked = shellNodes(lab);
  const [facts, shells, ...recs] = await Promise.all([
    gatherFacts(client, lab),
    Promise.all(asked.map(async (n) => [n, await shellFact(open(n))] as const)),
    ...images.map((i) => readImageRecords(lab.recordsRoot, i)),
  ]);
  const records: Record<string, ImageRecords> = {};
  recs.forEach((r) => (records[r.image] = r));
  return { ...planRunway(lab, { ...facts, ...(asked.length ? { shells: Object.fromEntries(shells) } : {}) }, records), calls: client.callCount - before };
}
