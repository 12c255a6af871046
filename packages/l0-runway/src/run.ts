import { readImageRecords, type ImageRecords, type Lab, type ProxmoxClient } from '@ahl/core';
import { planRunway, type RunwayReport } from './checks.js';
import { gatherFacts } from './facts.js';

/** Reads the facts and the lab's template records, then checks. Read-only on the server and on disk. */
export async function runRunway(lab: Lab, client: ProxmoxClient): Promise<RunwayReport & { readonly calls: number }> {
  const before = client.callCount;
  const images = [...new Set(lab.hosts.map((h) => h.template.image))].sort();
  const [facts, ...recs] = await Promise.all([gatherFacts(client, lab), ...images.map((i) => readImageRecords(lab.recordsRoot, i))]);
  const records: Record<string, ImageRecords> = {};
  recs.forEach((r) => (records[r.image] = r));
  return { ...planRunway(lab, facts, records), calls: client.callCount - before };
}
