import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimBackend } from '../backend.js';
import { ApiError, die } from '../errors.js';
import { type AuthId, type PermissionContext, checkPrivs, hasPrivs, privilegeMemo } from '../auth/permissions.js';
import { Rng } from './rng.js';
import { StorageLocks, type StorageLockOptions } from './storage-lock.js';
import { storageOnNode, storageUsed } from './storage.js';
import { TaskManager } from './tasks.js';
import type { Guest, NodeDisk, NodeInfo, SimStateData, StorageDef, Volume } from './types.js';

export interface CoreOptions {
  /** Task duration in ms, per task type or one value for all. */
  taskDurationMs: number | Record<string, number>;
  /** How long a new guest stays invisible to /cluster/resources stats (pvestatd lag). */
  statsLagMs: number;
  /** Delay after start before the guest agent answers. */
  agentStartDelayMs: number;
  now(): number;
  backend: SimBackend;
  injectedTaskFailure(type: string, id: string): string | undefined;
  onChange(): void;
  /** The storage lock model (see StorageLocks); off when undefined. */
  storageLock?: StorageLockOptions;
}

/**
 * The simulated cluster: state plus the shared rules handlers need (node,
 * storage, volume and guest lookups with PVE's error messages, permission
 * checks, tasks). No HTTP here.
 */
export class SimCore {
  readonly rng: Rng;
  readonly tasks: TaskManager;
  readonly perm: PermissionContext;
  /** vmid → time (ms) until which a config file lock is held (fault injection). */
  readonly fileLocks = new Map<number, number>();
  /** Storage ids whose allocations fail as if full (fault injection). */
  readonly fullStorages = new Set<string>();
  /** The storage locks volume allocations take (a no-op unless the `storageLock` option is set). */
  readonly storageLocks: StorageLocks;
  private tmp: string | undefined;
  private tmpCount = 0;

  constructor(
    readonly state: SimStateData,
    readonly opts: CoreOptions,
  ) {
    this.rng = new Rng(state.counters);
    this.storageLocks = new StorageLocks(opts.storageLock, () => opts.now());
    this.tasks = new TaskManager(state, {
      now: () => this.now(),
      durationMs: (type) => (typeof opts.taskDurationMs === 'number' ? opts.taskDurationMs : (opts.taskDurationMs[type] ?? opts.taskDurationMs.default ?? 200)),
      injectedFailure: opts.injectedTaskFailure,
      onChange: opts.onChange,
    });
    this.perm = {
      access: state.access,
      vmPool: (vmid) => state.guests[String(vmid)]?.pool,
    };
  }

  get dns(): SimStateData['dns'] {
    return this.state.dns;
  }

  get backend(): SimBackend {
    return this.opts.backend;
  }

  /** Unix time in seconds. */
  now(): number {
    return Math.floor(this.opts.now() / 1000);
  }

  nowMs(): number {
    return this.opts.now();
  }

  changed(): void {
    this.opts.onChange();
  }

  // ---- nodes -------------------------------------------------------------

  node(name: string): NodeInfo | undefined {
    return this.state.nodes.find((n) => n.name === name);
  }

  /** The node's disk a device path names: its /dev path or one of its /dev/disk/by-id links. */
  nodeDisk(node: string, path: string): NodeDisk | undefined {
    return this.node(node)?.disks?.find((d) => d.devpath === path || d.byId.includes(path));
  }

  requireClusterNode(name: string): NodeInfo {
    const n = this.node(name);
    if (!n) die(`no such cluster node '${name}'`);
    return n;
  }

  // ---- storage -----------------------------------------------------------

  storage(id: string): StorageDef | undefined {
    return this.state.storages.find((s) => s.storage === id);
  }

  /** PVE::Storage::storage_check_enabled + storage_check_node. */
  requireStorageOn(id: string, node: string): StorageDef {
    const s = this.storage(id);
    if (!s) die(`storage '${id}' does not exist`);
    if (s.disable) die(`storage '${id}' is disabled`);
    if (!storageOnNode(s, node)) die(`storage '${id}' is not available on node '${node}'`);
    return s;
  }

  storageStatus(s: StorageDef, node: string): { total: number; used: number; avail: number; active: number; enabled: number } {
    const enabled = !s.disable && storageOnNode(s, node) ? 1 : 0;
    const used = storageUsed(this.state.volumes, s, node);
    const total = s.total;
    return { total, used: Math.min(used, total), avail: Math.max(0, total - used), active: enabled, enabled };
  }

  /** A volume visible from `node` (local to it or on shared storage). */
  volume(volid: string, node: string): Volume | undefined {
    return this.state.volumes.find((v) => v.volid === volid && (v.node === null || v.node === node));
  }

  volumesOn(storage: StorageDef, node: string): Volume[] {
    return this.state.volumes.filter((v) => v.storage === storage.storage && (storage.shared || v.node === node));
  }

  addVolume(v: Volume): void {
    this.state.volumes.push(v);
    this.changed();
  }

  removeVolume(v: Volume): void {
    const i = this.state.volumes.indexOf(v);
    if (i >= 0) this.state.volumes.splice(i, 1);
    this.changed();
  }

  /** Runs a volume allocation or copy on `s` holding its storage lock (when the lock model is on). */
  withStorageLock<T>(s: StorageDef, node: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.storageLocks.run(s, node, fn, signal);
  }

  /** Throws the storage's "full" error when `size` more bytes do not fit. */
  checkSpace(s: StorageDef, node: string, size: number, name: string, message: (s: StorageDef, name: string) => string): void {
    if (this.fullStorages.has(s.storage) || this.storageStatus(s, node).avail < size) throw new Error(message(s, name));
  }

  // ---- temp files --------------------------------------------------------

  /** The sim's own temp directory (`<os.tmpdir()>/ahl-pve-sim-*`), if one was needed yet. */
  get tempDirPath(): string | undefined {
    return this.tmp;
  }

  /** A fresh path in the sim's temp directory, which is created on first use. */
  tempFile(name: string): string {
    this.tmp ??= mkdtempSync(join(tmpdir(), 'ahl-pve-sim-'));
    return join(this.tmp, `${++this.tmpCount}-${name.replace(/[^\w.-]/g, '_')}`);
  }

  /** Removes the temp directory and everything in it (on stop). */
  removeTempDir(): void {
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
    this.tmp = undefined;
  }

  /**
   * Hands the temp file at `path` to the backend as `vol`'s content; whatever
   * the backend leaves at `path` (it should move or delete it) is removed.
   */
  async storeFile(vol: Volume, s: StorageDef, path: string, size: number): Promise<void> {
    try {
      await this.backend.writeFile(vol, s, { path, size });
    } finally {
      await rm(path, { force: true });
    }
  }

  /** Stores an empty file as `vol` (vzdump archives carry only a manifest). */
  async storeEmptyFile(vol: Volume, s: StorageDef, name: string): Promise<void> {
    const path = this.tempFile(name);
    await writeFile(path, '');
    await this.storeFile(vol, s, path, 0);
  }

  // ---- guests ------------------------------------------------------------

  guest(vmid: number): Guest | undefined {
    return this.state.guests[String(vmid)];
  }

  /** PVE::QemuConfig->load_config: the guest on `node`, or 500. */
  loadConfig(node: string, vmid: number): Guest {
    const g = this.guest(vmid);
    if (!g || g.node !== node) die(`Configuration file 'nodes/${node}/qemu-server/${vmid}.conf' does not exist`);
    return g;
  }

  /** check_running's variant used by power and agent calls. */
  findConfig(node: string, vmid: number): Guest {
    const g = this.guest(vmid);
    if (!g || g.node !== node) die(`unable to find configuration file for VM ${vmid} on node '${node}'`);
    return g;
  }

  /** AbstractConfig::check_lock. */
  checkLock(g: Guest): void {
    const lock = g.config.lock;
    if (lock) die(`VM is locked (${lock})`);
  }

  /** The flock on the config; a held lock (fault) times out like PVE's 10 s wait. */
  checkFileLock(vmid: number): void {
    const until = this.fileLocks.get(vmid);
    if (until !== undefined && until > this.nowMs()) die(`can't lock file '/var/lock/qemu-server/lock-${vmid}.conf' - got timeout`);
  }

  vmidInUse(vmid: number): Guest | undefined {
    return this.guest(vmid);
  }

  // ---- permissions -------------------------------------------------------

  can(auth: AuthId, path: string, privs: readonly string[], any = false): boolean {
    return hasPrivs(this.perm, auth, path, privs, any);
  }

  /** A `can` for one request that checks many paths (see privilegeMemo). */
  canMany(auth: AuthId): (path: string, privs: readonly string[], any?: boolean) => boolean {
    return privilegeMemo(this.perm, auth);
  }

  check(auth: AuthId, path: string, privs: readonly string[], any = false): void {
    checkPrivs(this.perm, auth, path, privs, any);
  }

  /** 403 `Permission check failed (pool '<pool>' does not exist)`. */
  checkPoolExists(pool: string | undefined): void {
    if (pool !== undefined && !this.state.pools[pool]) throw new ApiError(403, `Permission check failed (pool '${pool}' does not exist)\n`);
  }
}
