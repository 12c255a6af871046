import { readImageRecords, vmHosts, type Lab, type ProxmoxClient, type TemplateManifest } from '@ahl/core';

export interface TemplateEntry {
  readonly version: string;
  readonly vmid: number;
  readonly templateName: string;
  readonly present: boolean;
  readonly channels: readonly string[];
}

export interface ImageListing {
  readonly image: string;
  readonly declared: boolean;
  readonly templates: readonly TemplateEntry[];
  /** channel → hosts following it. */
  readonly hosts: Readonly<Record<string, readonly string[]>>;
}

export interface TemplateListing {
  readonly images: readonly ImageListing[];
  /** Templates ahl made that no manifest records. */
  readonly orphans: readonly { readonly vmid: number; readonly name: string; readonly node: string }[];
}

export interface ServerTemplate {
  readonly vmid: number;
  readonly name: string;
  readonly node: string;
  readonly template: boolean;
  readonly tags: readonly string[];
  /** Power state as Proxmox reports it: running, stopped, paused… */
  readonly status: string;
}

/** Every QEMU guest and template on the cluster, from one call to /cluster/resources. */
export async function serverGuests(client: ProxmoxClient): Promise<ServerTemplate[]> {
  const rows = (await client.request<Record<string, unknown>[]>('GET', '/cluster/resources', { type: 'vm' })) ?? [];
  return rows
    .filter((r) => r.type === 'qemu')
    .map((r) => ({ vmid: Number(r.vmid), name: String(r.name ?? ''), node: String(r.node), template: Number(r.template ?? 0) === 1, tags: String(r.tags ?? '').split(/[;, ]/).filter(Boolean), status: String(r.status ?? 'unknown') }));
}

/** The VM (not a template) that is the host: same name, and same vmid when the host declares one. */
export function guestOf(host: { readonly name: string; readonly vmid?: number }, guests: readonly ServerTemplate[]): ServerTemplate | undefined {
  return guests.find((g) => !g.template && g.name === host.name && (host.vmid === undefined || g.vmid === host.vmid));
}

/** Declared images against the templates on the server: versions, channels, followers, orphans. One API call. */
export async function listTemplates(lab: Lab, client: ProxmoxClient): Promise<TemplateListing> {
  const guests = await serverGuests(client);
  const known = new Set<number>();
  const images: ImageListing[] = [];
  for (const image of Object.keys(lab.images)) {
    const rec = await readImageRecords(lab.recordsRoot, image);
    const channelsOf = (m: TemplateManifest) => Object.entries(rec.channels.channels).filter(([, v]) => v === m.version).map(([k]) => k).sort();
    const templates = rec.manifests.map((m) => {
      known.add(m.vmid);
      return { version: m.version, vmid: m.vmid, templateName: m.templateName, present: guests.some((g) => g.vmid === m.vmid && g.template && g.name === m.templateName), channels: channelsOf(m) };
    });
    const hosts: Record<string, string[]> = {};
    for (const h of vmHosts(lab)) if (h.template.image === image) (hosts[h.template.channel] ??= []).push(h.name);
    images.push({ image, declared: true, templates, hosts });
  }
  const orphans = guests.filter((g) => g.template && g.tags.includes('ahl-template') && !known.has(g.vmid)).map(({ vmid, name, node }) => ({ vmid, name, node }));
  return { images, orphans };
}
