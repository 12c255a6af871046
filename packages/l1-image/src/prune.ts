import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ahlError, artifactsDir, readImageRecords, waitForTask, type Lab, type ProxmoxClient, type TemplateManifest, type WaitOptions } from '@ahl/core';
import { serverGuests } from './inventory.js';

export interface PruneDecision {
  readonly manifest: TemplateManifest;
  readonly action: 'remove' | 'keep';
  readonly reason: string;
}

/** The tag L2 gives every VM it clones, naming its template, so a prune can tell a template is in use. */
export function templateTag(m: Pick<TemplateManifest, 'templateName'>): string {
  return `tpl-${m.templateName}`;
}

/**
 * Which templates a prune removes: not one of the `keep` newest, not on any channel, and used by no
 * VM — neither a linked clone whose disk lives on the template's base volume (ZFS, directory
 * storage) nor a VM tagged with the template (every VM L2 clones). Pure.
 */
export function planPrune(
  manifests: readonly TemplateManifest[],
  channels: Readonly<Partial<Record<string, string>>>,
  vms: readonly { vmid: number; name: string; tags: readonly string[]; disks: readonly string[] }[],
  keep: number,
): PruneDecision[] {
  const newest = [...manifests].sort((a, b) => (a.version < b.version ? 1 : -1));
  return newest.map((m, i) => {
    const onChannel = Object.entries(channels).filter(([, v]) => v === m.version).map(([k]) => k);
    if (onChannel.length) return { manifest: m, action: 'keep', reason: `on channel ${onChannel.join(', ')}` };
    const linked = vms.filter((v) => v.disks.some((d) => new RegExp(`(^|[:/])base-${m.vmid}-disk-`).test(d)));
    if (linked.length) return { manifest: m, action: 'keep', reason: `linked clones use it: ${linked.map((v) => `${v.name || v.vmid}`).join(', ')}` };
    const tagged = vms.filter((v) => v.tags.includes(templateTag(m)));
    if (tagged.length) return { manifest: m, action: 'keep', reason: `cloned by ${tagged.map((v) => v.name || String(v.vmid)).join(', ')}` };
    if (i < keep) return { manifest: m, action: 'keep', reason: `one of the ${keep} newest` };
    return { manifest: m, action: 'remove', reason: 'old, on no channel, used by no VM' };
  });
}

/**
 * Plans (and with `approve`, carries out) the prune of one image's templates. Reads every VM's
 * config once to find linked clones.
 */
export async function prune(lab: Lab, client: ProxmoxClient, image: string, opts: { keep: number; approve: boolean; wait?: WaitOptions }): Promise<{ decisions: PruneDecision[]; removed: number[] }> {
  const rec = await readImageRecords(lab.recordsRoot, image);
  const guests = (await serverGuests(client)).filter((g) => !g.template);
  const vms = await Promise.all(
    guests.map(async (g) => {
      const cfg = (await client.request<Record<string, unknown>>('GET', `/nodes/${encodeURIComponent(g.node)}/qemu/${g.vmid}/config`)) ?? {};
      const disks = Object.entries(cfg)
        .filter(([k]) => /^(scsi|virtio|sata|ide|efidisk|tpmstate)\d+$/.test(k))
        .map(([, v]) => String(v).split(',')[0]!);
      return { vmid: g.vmid, name: g.name, tags: g.tags, disks };
    }),
  );
  const decisions = planPrune(rec.manifests, rec.channels.channels, vms, opts.keep);
  const removed: number[] = [];
  if (opts.approve) {
    for (const d of decisions.filter((x) => x.action === 'remove')) {
      const upid = await client.request<string>('DELETE', `/nodes/${encodeURIComponent(d.manifest.node)}/qemu/${d.manifest.vmid}`, { purge: 1, 'destroy-unreferenced-disks': 1 });
      const r = await waitForTask(client, upid, opts.wait);
      if (!r.ok) throw ahlError('TEMPLATE_REMOVE_FAILED', { template: d.manifest.templateName, vmid: d.manifest.vmid, status: String(r.exitstatus) });
      await rm(join(artifactsDir(lab.recordsRoot, image), `${d.manifest.version}.json`), { force: true });
      removed.push(d.manifest.vmid);
    }
  }
  return { decisions, removed };
}
