import { createHash } from 'node:crypto';
import { Rng } from './model/rng.js';
import { GiB, parseVolid, volumeContent, volumeOwner, fileFormat } from './model/storage.js';
import type { AclEntry, Guest, NetworkIface, NodeDisk, NodeInfo, SimStateData, StorageDef, StorageType, Volume } from './model/types.js';
import { parseSize } from './schema/formats.js';

/**
 * The seed file (YAML or JSON): the cluster a fresh sim starts with. Every
 * field is optional; the defaults give one node `pve` with `local` (dir) and
 * `local-lvm` (lvmthin) storage, bridge vmbr0, and root@pam with an API token.
 */
export interface SeedConfig {
  pveVersion?: string;
  clusterName?: string;
  /** Seed of the deterministic generator (MACs, UUIDs, token secrets). */
  seed?: number;
  macPrefix?: string;
  dns?: { nameservers?: string[]; searchdomains?: string[] };
  nodes?: SeedNode[];
  storages?: SeedStorage[];
  /** Files present on storage at start (ISOs, cloud images, templates). */
  files?: { volid: string; node?: string; size?: number | string; sha256?: string }[];
  pools?: { id: string; comment?: string; storage?: string[] }[];
  users?: SeedUser[];
  groups?: { id: string; users?: string[]; comment?: string }[];
  roles?: Record<string, string[]>;
  acl?: SeedAcl[];
  guests?: SeedGuest[];
}

export interface SeedNode {
  name: string;
  ip?: string;
  cpus?: number;
  memoryGiB?: number;
  online?: boolean;
  bridges?: { iface: string; cidr?: string; gateway?: string; ports?: string; vlanAware?: boolean; comments?: string }[];
  /**
   * Physical disks; default one SSD holding the node's LVM. `byId` defaults to what udev names
   * it: `ata-<model>_<serial>` (`nvme-…` for NVMe) and `wwn-<wwn>`.
   */
  disks?: { devpath: string; size?: number | string; type?: NodeDisk['type']; model?: string; serial?: string; vendor?: string; wwn?: string; used?: string; byId?: string[] }[];
}

export interface SeedStorage {
  id: string;
  type: StorageType;
  content?: string[];
  path?: string;
  vgname?: string;
  thinpool?: string;
  pool?: string;
  shared?: boolean;
  nodes?: string[];
  disable?: boolean;
  /** Capacity (per node for local storage), e.g. 100 or "100G"; GiB when a number. */
  size?: number | string;
  format?: string;
}

export interface SeedUser {
  id: string;
  password?: string;
  enable?: boolean;
  expire?: number;
  comment?: string;
  email?: string;
  groups?: string[];
  tokens?: { id: string; secret?: string; privsep?: boolean; expire?: number; comment?: string }[];
}

export interface SeedAcl {
  path: string;
  roles: string[] | string;
  users?: string[];
  groups?: string[];
  tokens?: string[];
  propagate?: boolean;
}

export interface SeedGuest {
  vmid: number;
  node?: string;
  name?: string;
  template?: boolean;
  running?: boolean;
  pool?: string;
  /** Config keys as PVE stores them; drive volumes that do not exist are created. */
  config?: Record<string, string | number | boolean>;
}

const DEFAULT_SEED: SeedConfig = {
  nodes: [{ name: 'pve' }],
  storages: [
    { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'vztmpl', 'backup', 'import', 'snippets'], size: 100 },
    { id: 'local-lvm', type: 'lvmthin', vgname: 'pve', thinpool: 'data', content: ['images', 'rootdir'], size: 400 },
  ],
};

function sizeOf(v: number | string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return Math.round(v * GiB);
  const n = parseSize(v);
  if (n === undefined) throw new Error(`seed: invalid size '${v}'`);
  return n;
}

function seedDisk(d: NonNullable<SeedNode['disks']>[number]): NodeDisk {
  const type = d.type ?? (d.devpath.startsWith('/dev/nvme') ? 'nvme' : 'hdd');
  const links = d.byId ?? [
    ...(d.model && d.serial ? [`${type === 'nvme' ? 'nvme' : 'ata'}-${d.model.replace(/\s+/g, '_')}_${d.serial}`] : []),
    ...(d.wwn ? [`wwn-${d.wwn}`] : []),
  ];
  const disk: NodeDisk = { devpath: d.devpath, size: sizeOf(d.size, 1000 * GiB), type, byId: links.map((l) => (l.startsWith('/') ? l : `/dev/disk/by-id/${l}`)) };
  for (const k of ['model', 'serial', 'vendor', 'wwn', 'used'] as const) if (d[k] !== undefined) disk[k] = d[k];
  return disk;
}

function fakeFingerprint(name: string): string {
  return createHash('sha256')
    .update(`pve-sim:${name}`)
    .digest('hex')
    .toUpperCase()
    .match(/../g)!
    .join(':');
}

/** Builds the initial state from a seed. Throws Error with a `seed:` message on invalid input. */
export function buildState(input: SeedConfig | undefined, now: number): SimStateData {
  const seed: SeedConfig = { ...DEFAULT_SEED, ...(input ?? {}) };
  const counters = { pid: 0x1000, rng: (seed.seed ?? 0x5eed) | 0 };
  const rng = new Rng(counters);
  const nodes: NodeInfo[] = (seed.nodes ?? []).map((n, i) => {
    const ip = n.ip ?? `192.168.100.${11 + i}`;
    const bridges = n.bridges ?? [{ iface: 'vmbr0', cidr: `${ip}/24`, gateway: '192.168.100.1', ports: 'eno1' }];
    const network: NetworkIface[] = [{ iface: 'eno1', type: 'eth', active: 1, autostart: 0, method: 'manual', method6: 'manual', families: ['inet'], priority: 3 }];
    bridges.forEach((b, j) => {
      const e: NetworkIface = { iface: b.iface, type: 'bridge', active: 1, autostart: 1, method: b.cidr ? 'static' : 'manual', method6: 'manual', families: ['inet'], bridge_ports: b.ports ?? '', bridge_stp: 'off', bridge_fd: '0', priority: 4 + j };
      if (b.cidr) {
        const [addr, bits] = b.cidr.split('/');
        e.cidr = b.cidr;
        e.address = addr!;
        const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
        e.netmask = Number(bits) ? String(bits) : [24, 16, 8, 0].map((s) => (mask >>> s) & 255).join('.');
      }
      if (b.gateway) e.gateway = b.gateway;
      if (b.vlanAware) e.bridge_vlan_aware = 1;
      if (b.comments) e.comments = b.comments;
      network.push(e);
    });
    return {
      name: n.name,
      ip,
      online: n.online ?? true,
      cpus: n.cpus ?? 8,
      sockets: 1,
      cpuModel: 'Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz',
      memory: Math.round((n.memoryGiB ?? 32) * GiB),
      rootfs: 100 * GiB,
      network,
      sslFingerprint: fakeFingerprint(n.name),
      bootTime: now - 86400,
      disks: (n.disks ?? [{ devpath: '/dev/sda', size: 500, type: 'ssd', model: 'Samsung SSD 870 EVO 500GB', serial: `S6PXNS0T${String(100001 + i)}`, wwn: `0x5002538f${String(42000000 + i)}`, used: 'LVM' }]).map(seedDisk),
    };
  });
  if (nodes.length === 0) throw new Error('seed: at least one node is required');
  const nodeNames = new Set(nodes.map((n) => n.name));
  const storages: StorageDef[] = (seed.storages ?? []).map((s) => {
    if (!['dir', 'lvmthin', 'zfspool'].includes(s.type)) throw new Error(`seed: storage '${s.id}': type must be dir, lvmthin or zfspool`);
    const def: StorageDef = {
      storage: s.id,
      type: s.type,
      content: s.content ?? (s.type === 'dir' ? ['iso', 'vztmpl', 'backup'] : ['images', 'rootdir']),
      shared: s.shared ?? false,
      disable: s.disable ?? false,
      total: sizeOf(s.size, 100 * GiB),
    };
    if (s.type === 'dir') def.path = s.path ?? `/mnt/pve/${s.id}`;
    if (s.type === 'lvmthin') {
      def.vgname = s.vgname ?? 'pve';
      def.thinpool = s.thinpool ?? 'data';
    }
    if (s.type === 'zfspool') def.pool = s.pool ?? s.id;
    if (s.nodes) def.nodes = s.nodes;
    if (s.format) def.format = s.format;
    return def;
  });
  const storageById = new Map(storages.map((s) => [s.storage, s]));
  const firstNode = nodes[0]!.name;
  const volumes: Volume[] = [];
  const addVolume = (volid: string, node: string, size: number, extra: Partial<Volume> = {}): void => {
    const p = parseVolid(volid);
    const s = p ? storageById.get(p.storage) : undefined;
    if (!p || !s) throw new Error(`seed: volume '${volid}': unknown storage`);
    const content = volumeContent(s, p.name);
    if (!content) throw new Error(`seed: volume '${volid}': cannot tell its content type`);
    const owner = content === 'images' ? volumeOwner(p.name) : undefined;
    const format = content === 'images' ? (s.type === 'dir' ? (/\.(\w+)$/.exec(p.name)?.[1] ?? 'raw') : 'raw') : fileFormat(content, p.name);
    volumes.push({ volid, storage: s.storage, node: s.shared ? null : node, content, format, size, ctime: now, ...(owner !== undefined ? { vmid: owner } : {}), ...extra });
  };
  for (const f of seed.files ?? []) {
    const extra: Partial<Volume> = f.sha256 ? { checksums: { sha256: f.sha256.toLowerCase() } } : {};
    addVolume(f.volid, f.node ?? firstNode, sizeOf(f.size, 512 * 1024 * 1024), extra);
  }
  const guests: Record<string, Guest> = {};
  for (const g of seed.guests ?? []) {
    const node = g.node ?? firstNode;
    if (!nodeNames.has(node)) throw new Error(`seed: guest ${g.vmid}: unknown node '${node}'`);
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(g.config ?? {})) config[k] = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    if (g.name) config.name = g.name;
    if (g.template) config.template = '1';
    if (!config.smbios1) config.smbios1 = `uuid=${rng.uuid()}`;
    for (const [k, v] of Object.entries(config)) {
      if (!/^(ide|sata|scsi|virtio)\d+$|^efidisk0$|^tpmstate0$|^unused\d+$/.test(k)) continue;
      const file = v.split(',')[0] ?? '';
      if (!parseVolid(file) || /media=cdrom/.test(v) && !/cloudinit/.test(file)) continue;
      if (volumes.some((x) => x.volid === file)) continue;
      const size = parseSize(/(?:^|,)size=([^,]+)/.exec(v)?.[1] ?? '') ?? (/cloudinit/.test(file) ? 4 * 1024 * 1024 : 8 * GiB);
      addVolume(file, node, size);
    }
    guests[String(g.vmid)] = {
      vmid: g.vmid,
      node,
      config,
      pending: {},
      pendingDelete: {},
      status: g.running ? 'running' : 'stopped',
      qmpstatus: g.running ? 'running' : 'stopped',
      ...(g.running ? { startedAt: now - 3600, pid: 10000 + g.vmid } : {}),
      ...(g.pool ? { pool: g.pool } : {}),
      visibleAt: 0,
    };
  }
  const users: SimStateData['access']['users'] = {
    'root@pam': { userid: 'root@pam', password: 'root', enable: true, expire: 0, groups: [], tokens: {}, comment: 'Built-in Superuser' },
  };
  for (const u of seed.users ?? []) {
    if (!/^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(u.id)) throw new Error(`seed: user '${u.id}': not a valid user id (name@realm)`);
    const existing = users[u.id];
    const tokens: Record<string, { secret: string; privsep: boolean; expire: number; comment?: string }> = { ...(existing?.tokens ?? {}) };
    for (const t of u.tokens ?? []) tokens[t.id] = { secret: t.secret ?? rng.uuid(), privsep: t.privsep ?? true, expire: t.expire ?? 0, ...(t.comment ? { comment: t.comment } : {}) };
    users[u.id] = {
      userid: u.id,
      enable: u.enable ?? true,
      expire: u.expire ?? 0,
      groups: u.groups ?? [],
      tokens,
      ...(u.password !== undefined ? { password: u.password } : existing?.password !== undefined ? { password: existing.password } : {}),
      ...(u.comment ? { comment: u.comment } : {}),
      ...(u.email ? { email: u.email } : {}),
    };
  }
  if (!seed.users?.some((u) => u.id === 'root@pam' && u.tokens)) {
    users['root@pam']!.tokens.sim = { secret: rng.uuid(), privsep: false, expire: 0 };
  }
  const groups: SimStateData['access']['groups'] = {};
  for (const g of seed.groups ?? []) groups[g.id] = { users: g.users ?? [], ...(g.comment ? { comment: g.comment } : {}) };
  for (const u of Object.values(users)) for (const gid of u.groups) (groups[gid] ??= { users: [] }).users.includes(u.userid) || groups[gid]!.users.push(u.userid);
  const acl: AclEntry[] = [];
  for (const a of seed.acl ?? []) {
    const roles = Array.isArray(a.roles) ? a.roles : [a.roles];
    const propagate = a.propagate ?? true;
    for (const r of roles) {
      for (const u of a.users ?? []) acl.push({ path: a.path, type: 'user', ugid: u, roleid: r, propagate });
      for (const g of a.groups ?? []) acl.push({ path: a.path, type: 'group', ugid: g, roleid: r, propagate });
      for (const t of a.tokens ?? []) acl.push({ path: a.path, type: 'token', ugid: t, roleid: r, propagate });
    }
  }
  const pools: SimStateData['pools'] = {};
  for (const p of seed.pools ?? []) pools[p.id] = { poolid: p.id, storage: p.storage ?? [], ...(p.comment ? { comment: p.comment } : {}) };
  return {
    schema: 1,
    pveVersion: seed.pveVersion ?? '9.1.1',
    repoid: '42d27cc6c4a6a4d5',
    ...(seed.clusterName ? { clusterName: seed.clusterName } : {}),
    macPrefix: seed.macPrefix ?? 'BC:24:11',
    dns: { nameservers: seed.dns?.nameservers ?? ['192.168.100.1'], searchdomains: seed.dns?.searchdomains ?? ['lab.internal'] },
    nextIdLower: 100,
    nextIdUpper: 1000000,
    nodes,
    storages,
    volumes,
    guests,
    pools,
    access: { users, groups, roles: seed.roles ?? {}, acl, ticketKey: rng.hex(32) },
    tasks: [],
    counters,
  };
}
