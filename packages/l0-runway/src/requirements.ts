import { vmHosts, type Lab } from '@ahl/core';

/** Proxmox storage content types, as the API names them. */
export type ContentType = 'images' | 'import' | 'iso' | 'snippets' | 'backup';

export interface NodeRequirements {
  readonly node: string;
  readonly bridges: readonly string[];
  /** storage id → the content types the lab needs it to hold, sorted. */
  readonly storages: Readonly<Record<string, readonly ContentType[]>>;
  /** Hosts placed on this node. */
  readonly hosts: readonly string[];
  /** Whole disks of this node its VMs declare as passthrough, by device. */
  readonly passthrough: readonly { readonly host: string; readonly slot: string; readonly device: string }[];
}

export interface RunwayRequirements {
  readonly nodes: readonly NodeRequirements[];
  /** Everything the lab claims, for the conflict check against unmanaged guests. */
  readonly claims: {
    readonly vmids: readonly number[];
    readonly names: readonly string[];
    readonly ips: readonly string[];
  };
}

/**
 * What the Proxmox side must offer for this lab: per node, the bridges its hosts attach to and the
 * storages (with content types) their disks, cloud images, seeds and captures need. Pure: the runway
 * checks compare it with what the API reports.
 */
export function runwayRequirements(lab: Lab): RunwayRequirements {
  const perNode = new Map<string, { bridges: Set<string>; storages: Map<string, Set<ContentType>>; hosts: string[]; passthrough: { host: string; slot: string; device: string }[] }>();
  const at = (node: string) => {
    let n = perNode.get(node);
    if (!n) perNode.set(node, (n = { bridges: new Set(), storages: new Map(), hosts: [], passthrough: [] }));
    return n;
  };
  const need = (node: string, storage: string, type: ContentType) => {
    const s = at(node).storages;
    (s.get(storage) ?? s.set(storage, new Set()).get(storage)!).add(type);
  };
  const roles = (node: string) => ({ ...lab.config.defaults.storage, ...(lab.config.nodes[node]?.storage ?? {}) });

  for (const node of Object.keys(lab.config.nodes)) at(node);
  for (const h of vmHosts(lab)) {
    const n = at(h.node);
    n.hosts.push(h.name);
    for (const d of h.passthrough) n.passthrough.push({ host: h.name, slot: d.slot, device: d.device });
    n.bridges.add(h.network.bridge);
    need(h.node, h.disk.datastore, 'images');
    const r = roles(h.node);
    if (h.kind === 'vm' && r.snippets) need(h.node, r.snippets, 'snippets');
  }
  for (const img of Object.values(lab.images)) {
    const node = img.template.node ?? Object.keys(lab.config.nodes)[0]!;
    const r = roles(node);
    need(node, img.template.storage ?? r.vm ?? 'local-lvm', 'images');
    if (img.source.url) need(node, r.import ?? r.iso ?? 'local', 'import');
    else if (r.backup) need(node, r.backup, 'backup');
  }

  const nodes = [...perNode.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([node, n]) => ({
      node,
      bridges: [...n.bridges].sort(),
      storages: Object.fromEntries([...n.storages.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, t]) => [id, [...t].sort()])),
      hosts: n.hosts.sort(),
      passthrough: n.passthrough.sort((a, b) => (a.device < b.device ? -1 : 1)),
    }));
  return {
    nodes,
    claims: {
      vmids: lab.hosts.flatMap((h) => (h.vmid === undefined ? [] : [h.vmid])).sort((a, b) => a - b),
      names: lab.hosts.map((h) => h.name).sort(),
      ips: lab.hosts.flatMap((h) => (h.ip ? [h.ip.address] : [])).sort(),
    },
  };
}
