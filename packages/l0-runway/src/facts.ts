import { FingerprintMismatchError, ProxmoxApiError, ProxmoxUnreachableError, type Lab, type ProxmoxClient } from '@ahl/core';
import { runwayRequirements } from './requirements.js';
import type { PermissionMap } from './privileges.js';

/** A guest or template as /cluster/resources lists it. */
export interface GuestFact {
  readonly vmid: number;
  readonly name: string;
  readonly node: string;
  readonly template: boolean;
  readonly status: string;
  readonly tags: readonly string[];
}

export interface StorageFact {
  readonly storage: string;
  readonly node: string;
  readonly type: string;
  readonly status: string;
  readonly content: readonly string[];
  readonly enabled: boolean;
  /** bytes */
  readonly used: number;
  readonly total: number;
}

export interface InterfaceFact {
  readonly iface: string;
  readonly type: string;
  readonly active: boolean;
}

/** A physical disk of a node, from /nodes/{node}/disks/list. */
export interface DiskFact {
  readonly devpath: string;
  readonly size: number;
  readonly model?: string;
  readonly serial?: string;
  readonly wwn?: string;
  readonly used?: string;
}

/** What a node's shell (SSH, or this machine for the local lab) answered, for `image capture --to store`. */
export type ShellFact =
  | { readonly ok: true; readonly where: string; readonly user: string; readonly qemuImg: boolean }
  | { readonly ok: false; readonly where: string; readonly reason: string };

/** Everything the runway checks look at, read from the API in a constant number of calls. */
export interface RunwayFacts {
  /** Why the endpoint could not be used, when it could not. */
  readonly connection: { readonly ok: true } | { readonly ok: false; readonly kind: 'tls' | 'unreachable' | 'token' | 'api'; readonly message: string; readonly expected?: string; readonly actual?: string };
  readonly version?: string;
  readonly permissions?: PermissionMap;
  readonly nodes?: readonly { readonly node: string; readonly status: string }[];
  readonly networks?: Readonly<Record<string, readonly InterfaceFact[]>>;
  readonly storages?: readonly StorageFact[];
  /** Physical disks, read only for nodes whose VMs declare passthrough disks. */
  readonly disks?: Readonly<Record<string, readonly DiskFact[]>>;
  readonly guests?: readonly GuestFact[];
  /** Node shells, asked only when captures go to the store (it is how the boot disk is read). */
  readonly shells?: Readonly<Record<string, ShellFact>>;
  /** Static addresses of guests that ahl does not manage, from their cloud-init config. */
  readonly unmanagedAddresses?: Readonly<Record<number, readonly string[]>>;
}

/** A guest ahl manages carries the `ahl` tag that L2 gives every VM it creates. */
export function isManaged(g: GuestFact): boolean {
  return g.tags.includes('ahl');
}

function connectionFailure(e: unknown): RunwayFacts['connection'] | undefined {
  if (e instanceof ProxmoxUnreachableError) {
    if (e.cause instanceof FingerprintMismatchError) return { ok: false, kind: 'tls', message: e.reason, expected: e.cause.expected, actual: e.cause.actual };
    const tls = /CERT|SSL|TLS|self[- ]signed|certificate/i.test(e.reason);
    return { ok: false, kind: tls ? 'tls' : 'unreachable', message: e.reason };
  }
  if (e instanceof ProxmoxApiError && e.status === 401) return { ok: false, kind: 'token', message: `${e.status} ${e.statusText}` };
  return undefined;
}

/**
 * Reads the facts: /version, /access/permissions, /nodes, /storage, /cluster/resources, and
 * /nodes/{node}/network per node the lab uses, /nodes/{node}/disks/list per node with passthrough disks; plus one config read per running guest ahl does not
 * manage (for address conflicts). Never changes anything.
 */
export async function gatherFacts(client: ProxmoxClient, lab: Lab): Promise<RunwayFacts> {
  let version: string;
  try {
    const v = await client.request<{ version: string }>('GET', '/version');
    version = v.version;
  } catch (e) {
    const failure = connectionFailure(e);
    if (failure) return { connection: failure };
    throw e;
  }
  const tolerate = async <T>(p: Promise<T>): Promise<T | undefined> => {
    try {
      return await p;
    } catch (e) {
      if (e instanceof ProxmoxApiError && (e.status === 403 || e.status === 501)) return undefined;
      throw e;
    }
  };
  const req = runwayRequirements(lab);
  const [permissions, nodes, storageConfig, resources] = await Promise.all([
    tolerate(client.request<PermissionMap>('GET', '/access/permissions')),
    tolerate(client.request<{ node: string; status: string }[]>('GET', '/nodes')),
    tolerate(client.request<{ storage: string; type: string; content?: string; disable?: number; nodes?: string }[]>('GET', '/storage')),
    tolerate(client.request<Record<string, unknown>[]>('GET', '/cluster/resources')),
  ]);
  const online = new Set((nodes ?? []).filter((n) => n.status === 'online').map((n) => n.node));
  const networks: Record<string, InterfaceFact[]> = {};
  await Promise.all(
    req.nodes
      .filter((n) => online.has(n.node))
      .map(async (n) => {
        const list = await tolerate(client.request<{ iface: string; type: string; active?: number }[]>('GET', `/nodes/${encodeURIComponent(n.node)}/network`));
        if (list) networks[n.node] = list.map((i) => ({ iface: i.iface, type: i.type, active: i.active === 1 })).sort((a, b) => (a.iface < b.iface ? -1 : 1));
      }),
  );
  const disks: Record<string, DiskFact[]> = {};
  await Promise.all(
    req.nodes
      .filter((n) => online.has(n.node) && n.passthrough.length)
      .map(async (n) => {
        const list = await tolerate(client.request<Record<string, unknown>[]>('GET', `/nodes/${encodeURIComponent(n.node)}/disks/list`, { skipsmart: 1 }));
        if (list)
          disks[n.node] = list.map((d) => ({
            devpath: String(d.devpath),
            size: Number(d.size ?? 0),
            ...Object.fromEntries((['model', 'serial', 'wwn', 'used'] as const).filter((k) => typeof d[k] === 'string' && d[k] !== '').map((k) => [k, String(d[k])])),
          }));
      }),
  );
  const disabled = new Set((storageConfig ?? []).filter((s) => s.disable === 1).map((s) => s.storage));
  const storages: StorageFact[] = (resources ?? [])
    .filter((r) => r.type === 'storage')
    .map((r) => ({
      storage: String(r.storage),
      node: String(r.node),
      type: String(r.plugintype ?? ''),
      status: String(r.status ?? 'unknown'),
      content: String(r.content ?? '').split(',').filter(Boolean).sort(),
      enabled: !disabled.has(String(r.storage)),
      used: Number(r.disk ?? 0),
      total: Number(r.maxdisk ?? 0),
    }));
  const guests: GuestFact[] = (resources ?? [])
    .filter((r) => r.type === 'qemu' || r.type === 'lxc')
    .map((r) => ({
      vmid: Number(r.vmid),
      name: String(r.name ?? ''),
      node: String(r.node),
      template: Number(r.template ?? 0) === 1,
      status: String(r.status ?? 'unknown'),
      tags: String(r.tags ?? '').split(/[;, ]/).filter(Boolean),
    }))
    .sort((a, b) => a.vmid - b.vmid);

  const unmanagedAddresses: Record<number, string[]> = {};
  const claimed = new Set(lab.hosts.flatMap((h) => (h.ip ? [h.ip.address] : [])));
  const candidates = claimed.size ? guests.filter((g) => !g.template && !isManaged(g)) : [];
  for (let i = 0; i < candidates.length; i += 8) {
    await Promise.all(
      candidates.slice(i, i + 8).map(async (g) => {
        const cfg = await tolerate(client.request<Record<string, unknown>>('GET', `/nodes/${encodeURIComponent(g.node)}/qemu/${g.vmid}/config`));
        const ips = Object.entries(cfg ?? {})
          .filter(([k]) => /^ipconfig\d+$/.test(k))
          .flatMap(([, v]) => /(?:^|,)ip=([\d.]+)\//.exec(String(v))?.slice(1, 2) ?? []);
        if (ips.length) unmanagedAddresses[g.vmid] = ips;
      }),
    );
  }
  return {
    connection: { ok: true },
    version,
    ...(permissions ? { permissions } : {}),
    ...(nodes ? { nodes: nodes.map((n) => ({ node: n.node, status: n.status })) } : {}),
    networks,
    storages,
    disks,
    guests,
    unmanagedAddresses,
  };
}
