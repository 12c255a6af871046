import { createHash } from 'node:crypto';
import { ApiError, die, paramError } from '../errors.js';
import { isRoot } from '../auth/permissions.js';
import type { SimCore } from '../model/core.js';
import { metaData, networkData, userData } from '../model/cloudinit.js';
import {
  configDigest,
  driveKeys,
  driveVolume,
  isCdrom,
  isDriveKey,
  memoryMiB,
  optionSchema,
  parseOption,
  printOption,
  setOptionField,
  typedValue,
} from '../model/qemu-config.js';
import {
  baseName,
  canLinkClone,
  cloudinitName,
  linkedCloneName,
  newDiskName,
  nextDiskIndex,
  noSpaceMessage,
  parseVolid,
} from '../model/storage.js';
import type { TaskContext } from '../model/tasks.js';
import type { Guest, Volume } from '../model/types.js';
import type { CloudInitSeed } from '../backend.js';
import { formatSize, parseSize, splitList } from '../schema/formats.js';
import { type DrivePlan, configVolumes, nextUnusedKey, planDrive, realiseDrive } from './qemu-disks.js';
import { checkBridgeAccess, checkModifyPerms, checkValuePerms } from './qemu-perm.js';
import { type HandlerCtx, bool, int, reqStr, str } from './context.js';

/** Parameters of create/update that are not config options. */
const CREATE_CONTROL = new Set([
  'node',
  'vmid',
  'archive',
  'storage',
  'pool',
  'start',
  'unique',
  'force',
  'bwlimit',
  'live-restore',
  'import-working-storage',
]);
const UPDATE_CONTROL = new Set(['node', 'vmid', 'digest', 'delete', 'revert', 'force', 'skiplock', 'background_delay']);

/** Options a running VM takes at once (fast-plug, plus default hotplug network,disk,usb). */
const FAST_PLUG = new Set(['name', 'onboot', 'shares', 'startup', 'description', 'protection', 'vmstatestorage', 'hookscript', 'tags', 'lock']);

function vmidOf(ctx: HandlerCtx): number {
  return Number(reqStr(ctx, 'vmid'));
}

function optionValues(ctx: HandlerCtx, control: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.params)) {
    if (control.has(k) || v === undefined || v === null) continue;
    out[k] = typeof v === 'boolean' ? (v ? '1' : '0') : Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

/** cipassword is stored hashed (crypt SHA-256 style) unless it already is a hash. */
function hashPassword(core: SimCore, pw: string): string {
  if (/^\$(?:1|2[abxy]?|5|6)\$/.test(pw)) return pw;
  const salt = core.rng.hex(8);
  return `$5$${salt}$${createHash('sha256').update(salt + pw).digest('base64').replace(/=+$/, '')}`;
}

function checkSshKeys(value: string): void {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    die('SSH public key validation error');
  }
  for (const line of decoded.split('\n')) {
    if (!/\S/.test(line)) continue;
    if (!/^(?:[a-z0-9@.,="-]+ )?(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-[a-z0-9@.-]+) [A-Za-z0-9+/]+=*( .*)?$/.test(line.trim()))
      die('SSH public key validation error');
  }
}

/** Random MACs for netN entries without one (uses the datacenter mac_prefix). */
function addMacs(core: SimCore, values: Record<string, string>): void {
  for (const [k, v] of Object.entries(values)) {
    if (!/^net\d+$/.test(k)) continue;
    const net = parseOption(k, v);
    if (!net.macaddr) net.macaddr = core.rng.mac(core.state.macPrefix);
    values[k] = printOption(k, net);
  }
}

function normaliseDrives(values: Record<string, string>): void {
  for (const [k, v] of Object.entries(values)) if (isDriveKey(k)) values[k] = printOption(k, parseOption(k, v));
}

/** get_default_bootdevices: first disk, first cdrom, first net. */
function defaultBoot(config: Record<string, string>): string | undefined {
  const drives = driveKeys(config).filter((k) => /^(ide|sata|scsi|virtio)\d+$/.test(k));
  const disk = drives.find((k) => !isCdrom(config[k]!));
  const cdrom = drives.find((k) => isCdrom(config[k]!));
  const net = Object.keys(config)
    .filter((k) => /^net\d+$/.test(k))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))[0];
  const order = [disk, cdrom, net].filter((x): x is string => x !== undefined);
  return order.length ? `order=${order.join(';')}` : undefined;
}

function checkBootOrder(config: Record<string, string>): void {
  const boot = config.boot;
  if (!boot) return;
  const m = /(?:^|,)order=([^,]*)/.exec(boot);
  if (!m?.[1]) return;
  for (const dev of splitList(m[1])) {
    if (config[dev] === undefined) paramError({ boot: `invalid bootorder: device '${dev}' does not exist'` });
  }
}

function qemuVersion(): string {
  return '10.1.2';
}

// ---- list / create ---------------------------------------------------------

export function listQemu(ctx: HandlerCtx): unknown {
  const node = reqStr(ctx, 'node');
  const out = [];
  const can = ctx.core.canMany(ctx.auth);
  const full = bool(ctx, 'full') ?? false;
  for (const g of Object.values(ctx.core.state.guests).sort((a, b) => a.vmid - b.vmid)) {
    if (g.node !== node || !can(`/vms/${g.vmid}`, ['VM.Audit'])) continue;
    out.push(vmStatus(ctx.core, g, full));
  }
  return out;
}

export function createVm(ctx: HandlerCtx): unknown {
  const { core, auth } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  const pool = str(ctx, 'pool');
  const archive = str(ctx, 'archive');
  const values = optionValues(ctx, CREATE_CONTROL);
  if (values.sshkeys !== undefined) checkSshKeys(values.sshkeys);
  core.checkPoolExists(pool);
  const storageParam = str(ctx, 'storage');
  if (storageParam) core.check(auth, `/storage/${storageParam}`, ['Datastore.AllocateSpace']);
  if (!core.can(auth, `/vms/${vmid}`, ['VM.Allocate']) && !(pool && core.can(auth, `/pool/${pool}`, ['VM.Allocate'])))
    core.check(auth, `/vms/${vmid}`, ['VM.Allocate']);
  if (archive !== undefined) return restoreVm(ctx, node, vmid, archive, pool);
  checkModifyPerms(core, auth, vmid, Object.keys(values));
  checkValuePerms(core, auth, vmid, values);
  if (values.cdrom !== undefined) {
    values.ide2 = values.cdrom.includes('media=') ? values.cdrom : `${values.cdrom},media=cdrom`;
    delete values.cdrom;
  }
  const plans: DrivePlan[] = [];
  for (const k of Object.keys(values)) if (isDriveKey(k)) plans.push(planDrive(core, auth, node, k, values[k]!));
  addMacs(core, values);
  const existing = core.vmidInUse(vmid);
  if (existing) die(`unable to create VM ${vmid} - VM ${vmid} already exists on node '${existing.node}'`);
  // qm create holds the config file lock while it writes the new config.
  core.checkFileLock(vmid);
  if (values.cipassword !== undefined) values.cipassword = hashPassword(core, values.cipassword);
  const guest: Guest = {
    vmid,
    node,
    config: { lock: 'create' },
    pending: {},
    pendingDelete: {},
    status: 'stopped',
    qmpstatus: 'stopped',
    visibleAt: core.nowMs() + core.opts.statsLagMs,
  };
  core.state.guests[String(vmid)] = guest;
  core.changed();
  const start = bool(ctx, 'start') ?? false;
  return core.tasks.start(node, 'qmcreate', String(vmid), auth.id, async (task) => {
    const created: Volume[] = [];
    try {
      await task.delay(0.5);
      const config: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) if (!isDriveKey(k)) config[k] = v;
      for (const plan of plans) {
        const before = core.state.volumes.length;
        config[plan.key] = await realiseDrive(core, node, vmid, plan, task.log, task.signal);
        created.push(...core.state.volumes.slice(before));
      }
      if (config.boot === undefined) {
        const boot = defaultBoot(config);
        if (boot) config.boot = boot;
      }
      if (config.smbios1 === undefined) config.smbios1 = `uuid=${core.rng.uuid()}`;
      if (config.vmgenid === undefined && config.arch !== 'aarch64') config.vmgenid = core.rng.uuid();
      else if (config.vmgenid === '1') config.vmgenid = core.rng.uuid();
      if (config.meta === undefined) config.meta = `creation-qemu=${qemuVersion()},ctime=${core.now()}`;
      await task.delay(0.5);
      guest.config = config;
      if (pool) guest.pool = pool;
      core.changed();
      if (start) await startGuest(core, guest, task);
    } catch (err) {
      for (const v of created) {
        await core.backend.freeVolume(v, core.storage(v.storage)!).catch(() => {});
        core.removeVolume(v);
      }
      if (core.state.guests[String(vmid)] === guest) delete core.state.guests[String(vmid)];
      core.changed();
      throw new Error(`unable to create VM ${vmid} - ${(err as Error).message}`);
    }
  });
}

function restoreVm(ctx: HandlerCtx, node: string, vmid: number, archive: string, pool: string | undefined): unknown {
  const { core, auth } = ctx;
  const vol = core.volume(archive, node);
  const s = parseVolid(archive);
  if (!vol || !s || vol.content !== 'backup') die(`volume '${archive}' does not exist`);
  core.check(auth, `/storage/${s.storage}`, ['Datastore.Audit', 'Datastore.AllocateSpace'], true);
  const force = bool(ctx, 'force') ?? false;
  const existing = core.vmidInUse(vmid);
  if (existing && !force) die(`unable to restore VM ${vmid} - VM ${vmid} already exists on node '${existing.node}'`);
  if (existing) core.checkLock(existing);
  if (existing && existing.status === 'running') die(`unable to restore VM ${vmid} - VM is running`);
  const manifest = vol.backup;
  if (!manifest) die(`unable to restore VM ${vmid} - '${archive}' is not a pve-sim backup archive`);
  const targetStorage = str(ctx, 'storage');
  const unique = bool(ctx, 'unique') ?? false;
  const guest: Guest = existing ?? {
    vmid,
    node,
    config: {},
    pending: {},
    pendingDelete: {},
    status: 'stopped',
    qmpstatus: 'stopped',
    visibleAt: core.nowMs() + core.opts.statsLagMs,
  };
  const oldConfig = { ...guest.config };
  guest.config = { lock: 'create' };
  core.state.guests[String(vmid)] = guest;
  core.changed();
  return core.tasks.start(node, 'qmrestore', String(vmid), auth.id, async (task) => {
    task.log(`restore vma archive: ${archive}`);
    await task.delay(0.5);
    if (existing) {
      for (const { volid } of configVolumes(oldConfig)) {
        const v = core.volume(volid, node);
        if (v && v.vmid === vmid) {
          await core.backend.freeVolume(v, core.storage(v.storage)!);
          core.removeVolume(v);
        }
      }
    }
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(manifest.config)) {
      if (k === 'lock' || /^unused\d+$/.test(k)) continue;
      config[k] = v;
    }
    for (const [k, v] of Object.entries(config)) {
      const file = driveVolume(v);
      const ci = /^([^:]+):(?:.*\/)?vm-\d+-cloudinit/.exec(file);
      if (!ci?.[1] || !/^(ide|sata|scsi|virtio)\d+$/.test(k)) continue;
      const s = core.requireStorageOn(targetStorage ?? ci[1], node);
      const { name, format } = cloudinitName(s, vmid);
      const nv: Volume = { volid: `${s.storage}:${name}`, storage: s.storage, node: s.shared ? null : node, content: 'images', format, size: 4 * 1024 * 1024, ctime: core.now(), vmid };
      if (!core.volume(nv.volid, node)) {
        await core.withStorageLock(s, node, async () => {
          await core.backend.allocateVolume(nv, s);
          core.addVolume(nv);
        }, task.signal);
      }
      config[k] = setOptionField(k, v, 'file', nv.volid);
    }
    for (const disk of manifest.disks) {
      const orig = parseOption(disk.key, config[disk.key]!);
      const sid = targetStorage ?? parseVolid(orig.file ?? '')?.storage ?? 'local';
      const s = core.requireStorageOn(sid, node);
      const nv = await core.withStorageLock(s, node, async () => {
        const names = core.volumesOn(s, node).map((v) => parseVolid(v.volid)?.name ?? '');
        const { name, format } = newDiskName(s, vmid, nextDiskIndex(vmid, names), s.type === 'dir' ? disk.format : undefined);
        core.checkSpace(s, node, disk.size, name, noSpaceMessage);
        const v: Volume = { volid: `${s.storage}:${name}`, storage: s.storage, node: s.shared ? null : node, content: 'images', format, size: disk.size, ctime: core.now(), vmid };
        await core.backend.copyVolume(vol, v, s);
        core.addVolume(v);
        return v;
      }, task.signal);
      task.log(`new volume ID is '${nv.volid}'`);
      orig.file = nv.volid;
      orig.size = formatSize(disk.size);
      if (s.type !== 'dir') delete orig.format;
      config[disk.key] = printOption(disk.key, orig);
    }
    if (unique) {
      for (const k of Object.keys(config)) {
        if (!/^net\d+$/.test(k)) continue;
        const net = parseOption(k, config[k]!);
        net.macaddr = core.rng.mac(core.state.macPrefix);
        config[k] = printOption(k, net);
      }
      if (config.vmgenid) config.vmgenid = core.rng.uuid();
    }
    await task.delay(0.5);
    guest.config = config;
    guest.pending = {};
    guest.pendingDelete = {};
    if (pool) guest.pool = pool;
    core.changed();
    task.log('rescan volumes...');
  });
}

// ---- config ------------------------------------------------------------------

/** The config as GET config returns it: typed, pending merged unless `current`. */
export function configView(g: Guest, current: boolean): Record<string, unknown> {
  const merged: Record<string, string> = { ...g.config };
  if (!current) {
    Object.assign(merged, g.pending);
    for (const k of Object.keys(g.pendingDelete)) delete merged[k];
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(merged).sort()) {
    if (k === 'cipassword') out[k] = '**********';
    else out[k] = typedValue(k, merged[k]!);
  }
  out.digest = configDigest(g.config, g.pending, g.pendingDelete);
  return out;
}

export function getConfig(ctx: HandlerCtx): unknown {
  const g = ctx.core.loadConfig(reqStr(ctx, 'node'), vmidOf(ctx));
  if (str(ctx, 'snapshot') !== undefined) {
    if (bool(ctx, 'current')) paramError({ snapshot: 'cannot use current and snapshot at the same time' });
    die(`snapshot '${str(ctx, 'snapshot')}' does not exist`);
  }
  return configView(g, bool(ctx, 'current') ?? false);
}

export function getPending(ctx: HandlerCtx): unknown {
  const g = ctx.core.loadConfig(reqStr(ctx, 'node'), vmidOf(ctx));
  const keys = new Set([...Object.keys(g.config), ...Object.keys(g.pending), ...Object.keys(g.pendingDelete)]);
  const out = [];
  for (const k of [...keys].sort()) {
    const e: Record<string, unknown> = { key: k };
    const mask = (v: string): unknown => (k === 'cipassword' ? '**********' : typedValue(k, v));
    if (g.config[k] !== undefined) e.value = mask(g.config[k]!);
    if (g.pending[k] !== undefined) e.pending = mask(g.pending[k]!);
    if (g.pendingDelete[k] !== undefined) e.delete = g.pendingDelete[k];
    out.push(e);
  }
  return out;
}

interface UpdatePlan {
  values: Record<string, string>;
  deletes: string[];
  reverts: string[];
  force: boolean;
  plans: DrivePlan[];
}

/** The synchronous part of update_vm_api: parameter rules, permissions, digest, locks. */
function prepareUpdate(ctx: HandlerCtx, g: Guest | undefined): UpdatePlan {
  const { core, auth } = ctx;
  const vmid = vmidOf(ctx);
  const values = optionValues(ctx, UPDATE_CONTROL);
  const force = bool(ctx, 'force') ?? false;
  if (bool(ctx, 'skiplock') && !isRoot(auth)) paramError({ skiplock: 'Only root may use this option.' });
  if (values.cdrom !== undefined) {
    values.ide2 = values.cdrom;
    delete values.cdrom;
  }
  const deletes = splitList(str(ctx, 'delete') ?? '').map((k) => (k === 'cdrom' ? 'ide2' : k));
  const reverts = splitList(str(ctx, 'revert') ?? '');
  if (Object.keys(values).length === 0 && deletes.length === 0 && reverts.length === 0) die('no options specified');
  if (values.sshkeys !== undefined) checkSshKeys(values.sshkeys);
  for (const k of deletes) {
    if (values[k] !== undefined) paramError({ delete: `you can't use '-${k}' and -delete ${k}' at the same time` });
    if (reverts.includes(k)) paramError({ revert: `you can't use '-delete ${k}' and -revert ${k}' at the same time` });
    if (!optionSchema(k)) paramError({ delete: `unknown option '${k}'` });
  }
  for (const k of reverts) {
    if (values[k] !== undefined) paramError({ revert: `you can't use '-${k}' and -revert ${k}' at the same time` });
  }
  checkModifyPerms(core, auth, vmid, [...Object.keys(values), ...deletes]);
  checkValuePerms(core, auth, vmid, values);
  if (!g) g = core.loadConfig(reqStr(ctx, 'node'), vmid);
  const digest = str(ctx, 'digest');
  if (digest !== undefined && digest !== configDigest(g.config, g.pending, g.pendingDelete)) die('checksum mismatch (file change by other user?)');
  if (!bool(ctx, 'skiplock')) core.checkLock(g);
  core.checkFileLock(vmid);
  const plans: DrivePlan[] = [];
  for (const k of Object.keys(values)) if (isDriveKey(k)) plans.push(planDrive(core, auth, g.node, k, values[k]!, g));
  addMacs(core, values);
  if (values.cipassword !== undefined) values.cipassword = hashPassword(core, values.cipassword);
  if (values.vmgenid === '1') values.vmgenid = core.rng.uuid();
  return { values, deletes, reverts, force, plans };
}

function hotpluggable(g: Guest, key: string): boolean {
  if (FAST_PLUG.has(key)) return true;
  const hotplug = (g.config.hotplug ?? 'network,disk,usb').split(',');
  if (hotplug.includes('1')) return true;
  if (/^net\d+$/.test(key)) return hotplug.includes('network');
  if (/^(scsi|virtio|sata)\d+$/.test(key)) return hotplug.includes('disk');
  if (/^usb\d+$/.test(key)) return hotplug.includes('usb');
  if (/^(cores|sockets|vcpus)$/.test(key)) return hotplug.includes('cpu');
  if (/^(memory|balloon)$/.test(key)) return hotplug.includes('memory');
  if (/^(cpulimit|cpuunits)$/.test(key)) return true;
  return false;
}

/** Removes a key from the live config; volumes become unusedN, cloud-init drives are freed. */
async function detachKey(core: SimCore, g: Guest, key: string, force: boolean, log: (l: string) => void): Promise<void> {
  const value = g.config[key];
  if (value === undefined) return;
  delete g.config[key];
  const file = driveVolume(value);
  const vol = parseVolid(file) && (isDriveKey(key) || /^unused\d+$/.test(key)) ? core.volume(file, g.node) : undefined;
  if (vol && (/^unused\d+$/.test(key) || force || /cloudinit/.test(file))) {
    const stillUsed = Object.values(g.config).some((v) => driveVolume(v) === file);
    if (!stillUsed) {
      await core.backend.freeVolume(vol, core.storage(vol.storage)!);
      core.removeVolume(vol);
      log(`removed volume '${file}'`);
    }
  } else if (vol && !isCdrom(value)) {
    const stillUsed = Object.values(g.config).some((v) => driveVolume(v) === file);
    if (!stillUsed) g.config[nextUnusedKey(g.config)] = file;
  }
}

/** Applies an update to a guest (vmconfig_apply_pending / hotplug). */
async function applyUpdate(core: SimCore, g: Guest, plan: UpdatePlan, log: (l: string) => void, signal?: AbortSignal): Promise<void> {
  const running = g.status === 'running';
  for (const k of plan.reverts) {
    delete g.pending[k];
    delete g.pendingDelete[k];
  }
  for (const k of plan.deletes) {
    if (g.config[k] === undefined && g.pending[k] === undefined) {
      log(`cannot delete '${k}' - not set in current configuration!`);
      continue;
    }
    if (g.pending[k] !== undefined && g.config[k] === undefined) {
      delete g.pending[k];
      continue;
    }
    delete g.pending[k];
    if (running && !hotpluggable(g, k)) g.pendingDelete[k] = plan.force ? 2 : 1;
    else await detachKey(core, g, k, plan.force, log);
  }
  const newValues: Record<string, string> = { ...plan.values };
  for (const p of plan.plans) newValues[p.key] = await realiseDrive(core, g.node, g.vmid, p, log, signal);
  for (const [k, v] of Object.entries(newValues)) {
    delete g.pendingDelete[k];
    if (running && !hotpluggable(g, k)) {
      g.pending[k] = v;
      continue;
    }
    delete g.pending[k];
    const old = g.config[k];
    if (old !== undefined && isDriveKey(k) && driveVolume(old) !== driveVolume(v)) await detachKey(core, g, k, false, log);
    g.config[k] = v;
  }
  core.changed();
}

/** vmconfig_apply_pending: at a power cycle, pending changes become the config. */
async function applyPending(core: SimCore, g: Guest): Promise<void> {
  for (const [k, mode] of Object.entries(g.pendingDelete)) await detachKey(core, g, k, mode === 2, () => {});
  for (const [k, v] of Object.entries(g.pending)) {
    const old = g.config[k];
    if (old !== undefined && isDriveKey(k) && driveVolume(old) !== driveVolume(v)) await detachKey(core, g, k, false, () => {});
    g.config[k] = v;
  }
  g.pending = {};
  g.pendingDelete = {};
  core.changed();
}

function validateBoot(g: Guest, plan: UpdatePlan): void {
  const merged = { ...g.config, ...g.pending, ...plan.values };
  for (const k of plan.deletes) delete merged[k];
  if (plan.values.boot !== undefined) checkBootOrder(merged);
}

export async function putConfig(ctx: HandlerCtx): Promise<unknown> {
  const { core } = ctx;
  const g = core.loadConfig(reqStr(ctx, 'node'), vmidOf(ctx));
  const plan = prepareUpdate(ctx, g);
  validateBoot(g, plan);
  await applyUpdate(core, g, plan, () => {});
  return null;
}

export async function postConfig(ctx: HandlerCtx): Promise<unknown> {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  const g = core.loadConfig(node, vmid);
  const plan = prepareUpdate(ctx, g);
  validateBoot(g, plan);
  const upid = core.tasks.start(node, 'qmconfig', String(vmid), ctx.auth.id, async (task) => {
    await task.delay();
    await applyUpdate(core, g, plan, task.log, task.signal);
  });
  const bg = int(ctx, 'background_delay');
  if (bg === undefined) return upid;
  const done = await Promise.race([core.tasks.wait(upid), new Promise<undefined>((r) => setTimeout(() => r(undefined), bg * 1000))]);
  if (!done) return upid;
  if (done.exitstatus !== 'OK') die(`failed to update VM ${vmid}: ${done.exitstatus}`);
  return null;
}

// ---- status ----------------------------------------------------------------

function bootDiskSize(g: Guest): number {
  const boot = g.config.boot;
  let key = g.config.bootdisk;
  const m = boot ? /(?:^|,)order=([^,;]*)/.exec(boot) : undefined;
  if (m?.[1]) key = m[1];
  const value = (key && g.config[key]) || driveKeys(g.config).map((k) => g.config[k]!).find((v) => !isCdrom(v));
  if (!value) return 0;
  return parseSize(/(?:^|,)size=([^,]+)/.exec(value)?.[1] ?? '0') ?? 0;
}

/** vmstatus: numbers are JSON numbers; optional keys appear only when they apply. */
export function vmStatus(core: SimCore, g: Guest, _full = false): Record<string, unknown> {
  const running = g.status === 'running';
  const cfg = g.config;
  const maxmem = memoryMiB(cfg) * 1024 * 1024;
  const cpus = Number(cfg.vcpus ?? Number(cfg.cores ?? 1) * Number(cfg.sockets ?? 1));
  const uptime = running && g.startedAt ? Math.max(0, core.now() - g.startedAt) : 0;
  const out: Record<string, unknown> = {
    vmid: g.vmid,
    status: g.status,
    name: cfg.name ?? `VM ${g.vmid}`,
    cpus,
    maxmem,
    maxdisk: bootDiskSize(g),
    mem: running ? Math.floor(maxmem * 0.25) : 0,
    disk: 0,
    cpu: running ? 0.01 : 0,
    uptime,
    netin: running ? uptime * 1000 : 0,
    netout: running ? uptime * 500 : 0,
    diskread: running ? uptime * 4096 : 0,
    diskwrite: running ? uptime * 2048 : 0,
  };
  if (running && g.pid) out.pid = g.pid;
  if (cfg.lock) out.lock = cfg.lock;
  if (cfg.tags) out.tags = cfg.tags;
  if (cfg.template === '1') out.template = 1;
  return out;
}

export function statusCurrent(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const g = core.loadConfig(reqStr(ctx, 'node'), vmidOf(ctx));
  // A real guest may have powered itself off: the backend's process state wins, as pvestatd's does.
  if (g.status === 'running' && core.backend.guestRunning?.(g) === false) {
    g.status = 'stopped';
    g.qmpstatus = 'stopped';
    delete g.startedAt;
    delete g.pid;
    core.changed();
  }
  const out = vmStatus(core, g);
  out.qmpstatus = g.qmpstatus;
  out.ha = { managed: 0 };
  if (Object.keys(g.config).some((k) => /^serial\d+$/.test(k))) out.serial = 1;
  const agent = g.config.agent;
  if (agent && /(?:^|,)(?:enabled=)?1(?:,|$)/.test(agent)) out.agent = 1;
  if (g.status === 'running') {
    out['running-machine'] = 'pc-i440fx-10.1+pve0';
    out['running-qemu'] = qemuVersion();
  }
  return out;
}

async function startGuest(core: SimCore, g: Guest, task: TaskContext): Promise<void> {
  if (g.config.template === '1') throw new Error("you can't start a vm if it's a template");
  if (g.status === 'running') throw new Error(`VM ${g.vmid} already running`);
  await applyPending(core, g);
  await task.delay(0.5);
  // Like qm start, the cloud-init image is regenerated from the current config at every start.
  await core.backend.startGuest(g, { cloudInit: cloudInitSeed(core, g) });
  g.status = 'running';
  g.qmpstatus = 'running';
  g.startedAt = core.now();
  g.pid = 10000 + Math.floor(core.rng.next() * 900000);
  core.changed();
}

async function stopGuest(core: SimCore, g: Guest, graceful: boolean): Promise<void> {
  if (g.status !== 'running') return;
  await core.backend.stopGuest(g, graceful);
  g.status = 'stopped';
  g.qmpstatus = 'stopped';
  delete g.startedAt;
  delete g.pid;
  core.changed();
}

function checkRootOnly(ctx: HandlerCtx, keys: string[]): void {
  for (const k of keys) if (ctx.params[k] !== undefined && !isRoot(ctx.auth)) paramError({ [k]: 'Only root may use this option.' });
}

export function vmStart(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  checkRootOnly(ctx, ['skiplock', 'stateuri', 'migratedfrom', 'migration_type', 'migration_network', 'machine', 'targetstorage', 'force-cpu', 'nets-host-mtu', 'with-conntrack-state']);
  const skiplock = bool(ctx, 'skiplock') ?? false;
  return core.tasks.start(node, 'qmstart', String(vmid), ctx.auth.id, async (task) => {
    const g = core.loadConfig(node, vmid);
    if (!skiplock) core.checkLock(g);
    core.checkFileLock(vmid);
    await task.delay(0.5);
    await startGuest(core, g, task);
  });
}

function stopLike(ctx: HandlerCtx, type: 'qmstop' | 'qmshutdown'): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  checkRootOnly(ctx, ['skiplock', 'keepActive', 'migratedfrom']);
  const skiplock = bool(ctx, 'skiplock') ?? false;
  if (type === 'qmshutdown') {
    const g = core.guest(vmid);
    if (g && g.node === node && g.qmpstatus === 'paused' && !bool(ctx, 'forceStop')) die('VM is paused - cannot shutdown');
  }
  return core.tasks.start(node, type, String(vmid), ctx.auth.id, async (task) => {
    const g = core.findConfig(node, vmid);
    if (!skiplock) core.checkLock(g);
    core.checkFileLock(vmid);
    await task.delay();
    await stopGuest(core, g, type === 'qmshutdown');
  });
}

export const vmStop = (ctx: HandlerCtx): unknown => stopLike(ctx, 'qmstop');
export const vmShutdown = (ctx: HandlerCtx): unknown => stopLike(ctx, 'qmshutdown');

export function vmReboot(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  const g = core.findConfig(node, vmid);
  if (g.status !== 'running') die(`VM ${vmid} not running`);
  return core.tasks.start(node, 'qmreboot', String(vmid), ctx.auth.id, async (task) => {
    core.checkLock(g);
    await task.delay(0.5);
    await stopGuest(core, g, true);
    await startGuest(core, g, task);
  });
}

export function vmReset(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  checkRootOnly(ctx, ['skiplock']);
  const g = core.loadConfig(node, vmid);
  if (g.status !== 'running') die(`VM ${vmid} not running`);
  return core.tasks.start(node, 'qmreset', String(vmid), ctx.auth.id, async (task) => {
    await task.delay();
  });
}

// ---- delete ------------------------------------------------------------------

export function deleteVm(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  checkRootOnly(ctx, ['skiplock']);
  const skiplock = bool(ctx, 'skiplock') ?? false;
  const unreferenced = bool(ctx, 'destroy-unreferenced-disks') ?? false;
  const check = (g: Guest): void => {
    if (g.config.protection === '1') die(`can't remove VM ${vmid} - protection mode enabled`);
    if (g.status === 'running') die(`VM ${vmid} is running - destroy failed`);
  };
  check(core.loadConfig(node, vmid));
  return core.tasks.start(node, 'qmdestroy', String(vmid), ctx.auth.id, async (task) => {
    const g = core.loadConfig(node, vmid);
    if (!skiplock) core.checkLock(g);
    core.checkFileLock(vmid);
    check(g);
    const old = { ...g.config, ...g.pending };
    g.config = { lock: 'destroyed' };
    g.pending = {};
    g.pendingDelete = {};
    core.changed();
    await task.delay();
    const freed = new Set<string>();
    for (const { volid } of configVolumes(old)) {
      const v = core.volume(volid, node);
      if (!v || freed.has(volid)) continue;
      if (v.vmid !== undefined && v.vmid !== vmid) continue;
      await core.backend.freeVolume(v, core.storage(v.storage)!);
      core.removeVolume(v);
      freed.add(volid);
      task.log(`Removing image: 100% complete...done.`);
    }
    if (unreferenced) {
      for (const v of [...core.state.volumes]) {
        if (v.content !== 'images' || v.vmid !== vmid || (v.node !== null && v.node !== node)) continue;
        await core.backend.freeVolume(v, core.storage(v.storage)!);
        core.removeVolume(v);
      }
    }
    core.state.access.acl = core.state.access.acl.filter((a) => a.path !== `/vms/${vmid}`);
    delete core.state.guests[String(vmid)];
    core.changed();
  });
}

// ---- clone -------------------------------------------------------------------

const CLONE_SKIP = /^(lock|template|parent|snaptime|vmstate|runningmachine|runningcpu|snapstate|digest|pending)$|^unused\d+$/;

export function cloneVm(ctx: HandlerCtx): unknown {
  const { core, auth } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  const newid = Number(reqStr(ctx, 'newid'));
  const pool = str(ctx, 'pool');
  const target = str(ctx, 'target') ?? node;
  const storageId = str(ctx, 'storage');
  const format = str(ctx, 'format');
  core.checkPoolExists(pool);
  if (target !== node) core.requireClusterNode(target);
  if (storageId) {
    const s = core.requireStorageOn(storageId, target);
    if (!s.content.includes('images')) die(`storage '${storageId}' does not support vm images`);
    core.check(auth, `/storage/${storageId}`, ['Datastore.AllocateSpace']);
  }
  const src = core.loadConfig(node, vmid);
  core.checkLock(src);
  if (str(ctx, 'snapname') !== undefined) die(`snapshot '${str(ctx, 'snapname')}' does not exist`);
  const isTemplate = src.config.template === '1';
  const full = bool(ctx, 'full') ?? !isTemplate;
  if (!full && storageId) die("parameter 'storage' not allowed for linked clones");
  if (!full && format) die("parameter 'format' not allowed for linked clones");
  for (const [k, v] of Object.entries(src.config)) if (/^net\d+$/.test(k)) checkBridgeAccess(core, auth, v, k);
  const disks = driveKeys(src.config).filter((k) => !isCdrom(src.config[k]!) || /cloudinit/.test(driveVolume(src.config[k]!)));
  for (const k of disks) {
    const volid = driveVolume(src.config[k]!);
    const vol = core.volume(volid, node);
    const s = vol ? core.storage(vol.storage) : undefined;
    if (!vol || !s) continue;
    const isCi = /cloudinit/.test(volid);
    if (!full && !isCi && !/^tpmstate0$/.test(k) && !canLinkClone(s, parseVolid(volid)!.name, vol.format))
      die(`Linked clone feature is not supported for '${volid}' (${k})`);
    if (target !== node && !s.shared) die(`can't clone VM to node '${target}' (VM uses local storage)`);
    if (!storageId) core.check(auth, `/storage/${s.storage}`, ['Datastore.AllocateSpace']);
  }
  if (core.guest(newid)) die(`unable to create VM ${newid}: config file already exists`);
  const name = str(ctx, 'name');
  const description = str(ctx, 'description');
  return core.tasks.start(node, 'qmclone', String(vmid), auth.id, async (task) => {
    if (core.guest(newid)) throw new Error(`unable to create VM ${newid}: config file already exists`);
    core.checkLock(src);
    const guest: Guest = {
      vmid: newid,
      node: target,
      config: { lock: 'clone' },
      pending: {},
      pendingDelete: {},
      status: 'stopped',
      qmpstatus: 'stopped',
      visibleAt: core.nowMs() + core.opts.statsLagMs,
    };
    core.state.guests[String(newid)] = guest;
    core.changed();
    const created: Volume[] = [];
    try {
      await task.delay(0.5);
      const conf: Record<string, string> = {};
      for (const [k, v] of Object.entries(src.config)) if (!CLONE_SKIP.test(k)) conf[k] = v;
      if (Object.keys(src.pending).length || Object.keys(src.pendingDelete).length) task.warn('pending changes of the source are not cloned');
      for (const k of Object.keys(conf)) {
        if (!/^net\d+$/.test(k)) continue;
        const net = parseOption(k, conf[k]!);
        net.macaddr = core.rng.mac(core.state.macPrefix);
        conf[k] = printOption(k, net);
      }
      const smbios = conf.smbios1 ? conf.smbios1.split(',').filter((p) => !p.startsWith('uuid=')) : [];
      conf.smbios1 = [`uuid=${core.rng.uuid()}`, ...smbios].join(',');
      if (conf.vmgenid) conf.vmgenid = core.rng.uuid();
      conf.name = name ?? `Copy-of-VM-${src.config.name ?? vmid}`;
      if (description !== undefined) conf.description = description;
      for (const k of disks) {
        const value = src.config[k]!;
        const parsed = parseOption(k, value);
        const volid = driveVolume(value);
        const vol = core.volume(volid, node);
        if (!vol) throw new Error(`clone failed: volume '${volid}' does not exist`);
        const srcStorage = core.storage(vol.storage)!;
        const isCi = /cloudinit/.test(volid);
        const s = full && storageId && !isCi ? core.requireStorageOn(storageId, target) : srcStorage;
        task.log(`create ${full || isCi ? 'full' : 'linked'} clone of drive ${k} (${volid})`);
        // vdisk_alloc / vdisk_clone: the new volume is named and made inside the storage lock.
        const { nv, alloc } = await core.withStorageLock(s, target, async () => {
          const names = core.volumesOn(s, target).map((v) => parseVolid(v.volid)?.name ?? '');
          let alloc: { name: string; format: string };
          if (isCi) alloc = s.type === 'dir' ? { name: `${newid}/vm-${newid}-cloudinit.qcow2`, format: 'qcow2' } : { name: `vm-${newid}-cloudinit`, format: 'raw' };
          else if (full || k === 'tpmstate0') alloc = newDiskName(s, newid, nextDiskIndex(newid, names), s.type === 'dir' ? (format ?? vol.format) : undefined);
          else alloc = linkedCloneName(s, parseVolid(volid)!.name, newid, nextDiskIndex(newid, names));
          const size = vol.size;
          if (full || isCi) core.checkSpace(s, target, size, alloc.name, noSpaceMessage);
          const nv: Volume = { volid: `${s.storage}:${alloc.name}`, storage: s.storage, node: s.shared ? null : target, content: 'images', format: alloc.format, size, ctime: core.now(), vmid: newid };
          if (!full && !isCi && k !== 'tpmstate0') nv.parent = volid;
          if (full || isCi || k === 'tpmstate0') await core.backend.copyVolume(vol, nv, s);
          else await core.backend.linkVolume(vol, nv, s);
          core.addVolume(nv);
          created.push(nv);
          return { nv, alloc };
        }, task.signal);
        parsed.file = nv.volid;
        if (s.type !== 'dir') delete parsed.format;
        else if (parsed.format) parsed.format = alloc.format;
        conf[k] = printOption(k, parsed);
      }
      await task.delay(0.5);
      // An injected failure (fault taskFailure on qmclone) strikes here, with the target config
      // (lock: clone) and its new volumes in place, so PVE's cleanup below is what removes them.
      task.failPoint();
      if (pool) guest.pool = pool;
      guest.config = conf;
      core.changed();
    } catch (err) {
      for (const v of created) {
        await core.backend.freeVolume(v, core.storage(v.storage)!).catch(() => {});
        core.removeVolume(v);
      }
      delete core.state.guests[String(newid)];
      core.changed();
      throw new Error(`clone failed: ${(err as Error).message.replace(/^clone failed: /, '')}`);
    }
  }, { injectInside: true });
}

// ---- resize / template -------------------------------------------------------

export function resizeVm(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  checkRootOnly(ctx, ['skiplock']);
  const disk = reqStr(ctx, 'disk');
  const sizeText = reqStr(ctx, 'size');
  const digest = str(ctx, 'digest');
  const skiplock = bool(ctx, 'skiplock') ?? false;
  return core.tasks.start(node, 'resize', String(vmid), ctx.auth.id, async (task) => {
    const g = core.loadConfig(node, vmid);
    if (digest !== undefined && digest !== configDigest(g.config, g.pending, g.pendingDelete)) throw new Error('checksum mismatch (file change by other user?)');
    if (!skiplock) core.checkLock(g);
    core.checkFileLock(vmid);
    const value = g.config[disk];
    if (value === undefined) throw new Error(`disk '${disk}' does not exist`);
    if (isCdrom(value)) throw new Error("you can't resize a cdrom");
    const parsed = parseOption(disk, value);
    const vol = core.volume(parsed.file ?? '', node);
    const oldSize = vol?.size ?? parseSize(parsed.size ?? '0') ?? 0;
    const m = /^(\+)?(\d+(?:\.\d+)?[KMGT]?)$/.exec(sizeText)!;
    const delta = parseSize(m[2]!) ?? 0;
    const newSize = m[1] ? oldSize + delta : delta;
    if (newSize < oldSize) throw new Error('shrinking disks is not supported');
    if (newSize === oldSize) {
      task.log(`VM ${vmid}: size of disk '${disk}' is unchanged`);
      return;
    }
    const s = vol ? core.storage(vol.storage) : undefined;
    if (vol && s) {
      core.checkSpace(s, node, newSize - oldSize, parseVolid(vol.volid)!.name, noSpaceMessage);
      await task.delay();
      await core.backend.resizeVolume(vol, newSize, s);
      vol.size = newSize;
    }
    parsed.size = formatSize(newSize);
    g.config[disk] = printOption(disk, parsed);
    core.changed();
    task.log(`Image resized.`);
  });
}

export function templateVm(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  const g = core.loadConfig(node, vmid);
  core.checkLock(g);
  core.checkFileLock(vmid);
  const disk = str(ctx, 'disk');
  if (g.config.template === '1' && !disk) die("you can't convert a template to a template");
  if (g.status === 'running') die("you can't convert a VM to template if VM is running");
  return core.tasks.start(node, 'qmtemplate', String(vmid), ctx.auth.id, async (task) => {
    await task.delay();
    for (const k of driveKeys(g.config)) {
      if (disk && k !== disk) continue;
      const value = g.config[k]!;
      if (isCdrom(value)) continue;
      const parsed = parseOption(k, value);
      const vol = core.volume(parsed.file ?? '', node);
      if (!vol) continue;
      const s = core.storage(vol.storage)!;
      const name = parseVolid(vol.volid)!.name;
      if (/(?:^|\/)base-/.test(name) && !name.includes('/vm-')) continue;
      const renamed: Volume = { ...vol, volid: `${s.storage}:${baseName(s, name)}` };
      await core.backend.renameVolume(vol, renamed, s);
      core.removeVolume(vol);
      core.addVolume(renamed);
      parsed.file = renamed.volid;
      g.config[k] = printOption(k, parsed);
    }
    g.config.template = '1';
    core.changed();
  });
}

// ---- move_disk -------------------------------------------------------------

/**
 * move_vm_disk (`qm disk move`): a full copy of one drive to another storage in
 * a `qmmove` task; the old volume becomes `unusedN`, or is freed with
 * `delete=1` (bpg sends that after a clone when a disk's datastore differs).
 * Moving a disk to another VM (`target-vmid`) is not simulated.
 */
export function moveDisk(ctx: HandlerCtx): unknown {
  const { core, auth } = ctx;
  const node = reqStr(ctx, 'node');
  const vmid = vmidOf(ctx);
  const disk = reqStr(ctx, 'disk');
  const storeid = str(ctx, 'storage');
  const targetVmid = int(ctx, 'target-vmid');
  const format = str(ctx, 'format');
  const del = bool(ctx, 'delete') ?? false;
  const digest = str(ctx, 'digest');
  if (targetVmid !== undefined && targetVmid !== vmid) throw new ApiError(501, `pve-sim: moving a disk to another VM (target-vmid) is not implemented\n`);
  if (targetVmid === vmid && str(ctx, 'target-disk') === undefined) paramError({ 'target-vmid': 'must be different than source VMID to reassign disk' });
  if (!storeid) {
    const msg = "both 'storage' and 'target-vmid' missing";
    paramError({ 'target-vmid': msg, storage: msg });
  }
  core.check(auth, `/storage/${storeid}`, ['Datastore.AllocateSpace']);
  if (/^unused\d+$/.test(disk)) die(`cannot move disk '${disk}', only configured disks can be moved to another storage`);
  const g = core.loadConfig(node, vmid);
  core.checkFileLock(vmid);
  core.checkLock(g);
  // PVE::Tools::assert_if_modified's text (update_vm has its own 'checksum mismatch').
  if (digest !== undefined && digest !== configDigest(g.config, g.pending, g.pendingDelete)) die('detected modified configuration - file changed by other user? Try again.');
  const value = g.config[disk];
  if (value === undefined) die(`disk '${disk}' does not exist`);
  const parsed = parseOption(disk, value);
  const oldVolid = parsed.file;
  if (!oldVolid || oldVolid === 'none') die(`disk '${disk}' has no associated volume`);
  if (isCdrom(value)) die("you can't move a cdrom");
  const old = parseVolid(oldVolid);
  const oldFmt = /\.(raw|qcow2|vmdk)$/.exec(old?.name ?? '')?.[1];
  if (old?.storage === storeid && (!format || !oldFmt || oldFmt === format)) die("you can't move to the same storage with same format");
  const s = core.requireStorageOn(storeid, node);
  // Best guess: PVE fails in vdisk_alloc; the sim reuses clone's early check.
  if (!s.content.includes('images')) die(`storage '${storeid}' does not support vm images`);
  return core.tasks.start(node, 'qmmove', String(vmid), auth.id, async (task) => {
    if (core.guest(vmid) !== g || g.config[disk] !== value) throw new Error(`storage migration failed: configuration of VM ${vmid} changed`);
    const vol = core.volume(oldVolid, node);
    if (!vol) throw new Error(`storage migration failed: volume '${oldVolid}' does not exist`);
    const names = core.volumesOn(s, node).map((v) => parseVolid(v.volid)?.name ?? '');
    const fmt = s.type === 'dir' ? (format ?? (vol.format === 'raw' || vol.format === 'qcow2' || vol.format === 'vmdk' ? vol.format : undefined)) : undefined;
    const alloc = newDiskName(s, vmid, nextDiskIndex(vmid, names), fmt);
    let nv: Volume = { volid: `${s.storage}:${alloc.name}`, storage: s.storage, node: s.shared ? null : node, content: 'images', format: alloc.format, size: vol.size, ctime: core.now(), vmid };
    task.log(`create full clone of drive ${disk} (${oldVolid})`);
    let created = false;
    try {
      await task.delay(0.5);
      await core.withStorageLock(s, node, async () => {
        core.checkSpace(s, node, vol.size, alloc.name, noSpaceMessage);
        await core.backend.copyVolume(vol, nv, s);
        core.addVolume(nv);
        created = true;
      }, task.signal);
      task.log(`transferred ${formatSize(vol.size)} of ${formatSize(vol.size)} (100.00%)`);
      if (g.config.template === '1') {
        // template_create: a moved template disk becomes a base volume again.
        const based: Volume = { ...nv, volid: `${s.storage}:${baseName(s, alloc.name)}` };
        await core.backend.renameVolume(nv, based, s);
        core.removeVolume(nv);
        core.addVolume(based);
        nv = based;
      }
    } catch (err) {
      if (created) {
        await core.backend.freeVolume(nv, s).catch(() => {});
        core.removeVolume(nv);
      }
      throw new Error(`storage migration failed: ${(err as Error).message}`);
    }
    parsed.file = nv.volid;
    if (s.type !== 'dir') delete parsed.format;
    else if (parsed.format) parsed.format = nv.format;
    g.config[disk] = printOption(disk, parsed);
    if (!del) g.config[nextUnusedKey(g.config)] = oldVolid;
    core.changed();
    await task.delay(0.5);
    if (del) {
      try {
        if (core.state.volumes.some((v) => v.parent === oldVolid)) throw new Error(`base volume '${oldVolid}' is still in use by linked clones`);
        await core.backend.freeVolume(vol, core.storage(vol.storage)!);
        core.removeVolume(vol);
      } catch (err) {
        task.warn((err as Error).message.replace(/\n$/, ''));
      }
    }
  });
}

// ---- cloud-init and agent ----------------------------------------------------

/** The NoCloud documents of a guest with a cloud-init drive, as its seed image would hold them. */
function cloudInitSeed(core: SimCore, g: Guest): CloudInitSeed | undefined {
  if (!Object.values(g.config).some((v) => /(^|[:/])vm-\d+-cloudinit\b/.test(v))) return undefined;
  const host = { nameservers: core.dns.nameservers, searchdomains: core.dns.searchdomains };
  const user = userData(g.config, g.vmid, false);
  const network = networkData(g.config, host);
  return { userData: user, networkConfig: network, metaData: metaData(user, network) };
}

export function cloudinitDump(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const vmid = vmidOf(ctx);
  const g = core.loadConfig(reqStr(ctx, 'node'), vmid);
  const type = reqStr(ctx, 'type');
  const mask = !core.can(ctx.auth, `/vms/${vmid}`, ['VM.Config.Cloudinit']);
  const host = { nameservers: core.dns.nameservers, searchdomains: core.dns.searchdomains };
  const user = userData(g.config, vmid, mask);
  const network = networkData(g.config, host);
  if (type === 'user') return user;
  if (type === 'network') return network;
  return metaData(userData(g.config, vmid, false), network);
}

function agentGuest(ctx: HandlerCtx): Guest {
  const { core } = ctx;
  const vmid = vmidOf(ctx);
  const g = core.findConfig(reqStr(ctx, 'node'), vmid);
  const agent = g.config.agent;
  if (!agent || !/(?:^|,)(?:enabled=)?1(?:,|$)/.test(agent)) die('No QEMU guest agent configured');
  if (g.status !== 'running') die(`VM ${vmid} is not running`);
  if ((g.startedAt ?? 0) * 1000 + core.opts.agentStartDelayMs > core.nowMs()) die('QEMU guest agent is not running');
  return g;
}

export async function agentPing(ctx: HandlerCtx): Promise<unknown> {
  const g = agentGuest(ctx);
  if (ctx.core.backend.agentPing) await ctx.core.backend.agentPing(g).catch(() => die('QEMU guest agent is not running'));
  return { result: {} };
}

export async function agentInterfaces(ctx: HandlerCtx): Promise<unknown> {
  const g = agentGuest(ctx);
  const fromBackend = await ctx.core.backend.agentInterfaces?.(g);
  if (fromBackend) return { result: fromBackend };
  const result: unknown[] = [
    {
      name: 'lo',
      'hardware-address': '00:00:00:00:00:00',
      'ip-addresses': [
        { 'ip-address': '127.0.0.1', 'ip-address-type': 'ipv4', prefix: 8 },
        { 'ip-address': '::1', 'ip-address-type': 'ipv6', prefix: 128 },
      ],
      statistics: { 'rx-bytes': 0, 'rx-packets': 0, 'tx-bytes': 0, 'tx-packets': 0, 'rx-errs': 0, 'tx-errs': 0, 'rx-dropped': 0, 'tx-dropped': 0 },
    },
  ];
  const nets = Object.keys(g.config)
    .filter((k) => /^net\d+$/.test(k))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  nets.forEach((k, i) => {
    const id = Number(k.slice(3));
    const net = parseOption(k, g.config[k]!);
    const addrs: unknown[] = [];
    const given = g.agentIps?.[i];
    const ipc = g.config[`ipconfig${id}`];
    const ip = given ?? (ipc && /(?:^|,)ip=([\d.]+\/\d+)/.exec(ipc)?.[1]) ?? `10.${(g.vmid >> 8) & 255}.${g.vmid & 255}.${10 + id}/24`;
    const [addr, prefix] = ip.split('/');
    addrs.push({ 'ip-address': addr, 'ip-address-type': 'ipv4', prefix: Number(prefix ?? 24) });
    result.push({
      name: `eth${id}`,
      'hardware-address': (net.macaddr ?? '').toLowerCase(),
      'ip-addresses': addrs,
      statistics: { 'rx-bytes': 1024, 'rx-packets': 10, 'tx-bytes': 512, 'tx-packets': 5, 'rx-errs': 0, 'tx-errs': 0, 'rx-dropped': 0, 'tx-dropped': 0 },
    });
  });
  return { result };
}

