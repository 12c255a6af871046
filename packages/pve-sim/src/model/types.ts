/**
 * The simulator's state. Plain JSON throughout so it can be persisted and
 * reloaded unchanged; all sizes are bytes, all times unix seconds.
 */

export type StorageType = 'dir' | 'lvmthin' | 'zfspool';

export interface NetworkIface {
  iface: string;
  type: string;
  active?: number;
  autostart?: number;
  method?: string;
  method6?: string;
  families?: string[];
  address?: string;
  netmask?: string;
  cidr?: string;
  gateway?: string;
  bridge_ports?: string;
  bridge_stp?: string;
  bridge_fd?: string;
  bridge_vlan_aware?: number;
  comments?: string;
  priority?: number;
}

export interface NodeInfo {
  name: string;
  ip: string;
  online: boolean;
  cpus: number;
  sockets: number;
  cpuModel: string;
  memory: number;
  rootfs: number;
  network: NetworkIface[];
  sslFingerprint: string;
  bootTime: number;
  /** Physical disks (GET /nodes/{node}/disks/list); absent in states saved before disks were simulated. */
  disks?: NodeDisk[];
}

/** A physical disk of a node, with the /dev/disk/by-id links udev gives it. */
export interface NodeDisk {
  devpath: string;
  size: number;
  type: 'hdd' | 'ssd' | 'nvme' | 'usb';
  model?: string;
  serial?: string;
  vendor?: string;
  wwn?: string;
  /** What holds it (LVM, ZFS, partitions, mounted); absent when unused. */
  used?: string;
  byId: string[];
}

export interface StorageDef {
  storage: string;
  type: StorageType;
  content: string[];
  /** dir: base path; lvmthin: `<vg>/<thinpool>`; zfspool: pool name. */
  path?: string;
  vgname?: string;
  thinpool?: string;
  pool?: string;
  shared: boolean;
  /** Nodes the storage is available on; undefined = all. */
  nodes?: string[];
  disable: boolean;
  /** Capacity per node (or of the shared store). */
  total: number;
  /** Default image format on path-based storage. */
  format?: string;
}

export interface Volume {
  volid: string;
  storage: string;
  /** The node a local volume lives on; null for shared storage. */
  node: string | null;
  content: string;
  format: string;
  size: number;
  /** For a downloaded qcow2: its virtual disk size, read from the image header. */
  virtualSize?: number;
  ctime: number;
  vmid?: number;
  parent?: string;
  notes?: string;
  protected?: number;
  /** Hex digests of downloaded or seeded file content, by algorithm. */
  checksums?: Record<string, string>;
  /** For backup archives: what a restore recreates. */
  backup?: BackupManifest;
}

export interface BackupManifest {
  vmid: number;
  config: Record<string, string>;
  disks: { key: string; size: number; format: string }[];
}

export interface Guest {
  vmid: number;
  node: string;
  /** The config as stored: key → property-string value. */
  config: Record<string, string>;
  pending: Record<string, string>;
  /** Pending deletions: key → 1, or 2 when forced. */
  pendingDelete: Record<string, number>;
  status: 'running' | 'stopped';
  qmpstatus: 'running' | 'stopped' | 'paused' | 'prelaunch';
  startedAt?: number;
  pid?: number;
  pool?: string;
  /** When pvestatd would first see the guest; /cluster/resources lags until then. */
  visibleAt: number;
  /** Addresses the simulated guest agent reports; derived from ipconfig when absent. */
  agentIps?: string[];
}

export interface TaskRecord {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
  status: 'running' | 'stopped';
  exitstatus?: string;
  endtime?: number;
  log: string[];
}

export interface SimUser {
  userid: string;
  password?: string;
  enable: boolean;
  expire: number;
  comment?: string;
  email?: string;
  groups: string[];
  tokens: Record<string, SimToken>;
}

export interface SimToken {
  secret: string;
  privsep: boolean;
  expire: number;
  comment?: string;
}

export interface AclEntry {
  path: string;
  type: 'user' | 'group' | 'token';
  ugid: string;
  roleid: string;
  propagate: boolean;
}

export interface AccessState {
  users: Record<string, SimUser>;
  groups: Record<string, { users: string[]; comment?: string }>;
  /** Custom roles; built-in roles are always present and not stored. */
  roles: Record<string, string[]>;
  acl: AclEntry[];
  /** Secret for ticket and CSRF signatures. */
  ticketKey: string;
}

export interface PoolInfo {
  poolid: string;
  comment?: string;
  /** Storage members; guest membership is Guest.pool. */
  storage: string[];
}

export interface SimStateData {
  /** Format version of this object. */
  schema: 1;
  pveVersion: string;
  repoid: string;
  clusterName?: string;
  macPrefix: string;
  /** The nodes' resolv.conf, used by cloud-init when a guest sets no DNS. */
  dns: { nameservers: string[]; searchdomains: string[] };
  nextIdLower: number;
  nextIdUpper: number;
  nodes: NodeInfo[];
  storages: StorageDef[];
  volumes: Volume[];
  guests: Record<string, Guest>;
  pools: Record<string, PoolInfo>;
  access: AccessState;
  tasks: TaskRecord[];
  /** Counters kept across restarts so UPIDs and random values do not repeat. */
  counters: { pid: number; rng: number };
}
