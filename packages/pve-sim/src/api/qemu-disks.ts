import { ApiError, die, paramError } from '../errors.js';
import type { AuthId } from '../auth/permissions.js';
import { isRoot } from '../auth/permissions.js';
import type { SimCore } from '../model/core.js';
import { isCdrom, parseOption, printOption } from '../model/qemu-config.js';
import { GiB, cloudinitName, newDiskName, nextDiskIndex, noSpaceMessage, parseVolid, volumeContent } from '../model/storage.js';
import type { Guest, StorageDef, Volume } from '../model/types.js';
import { formatSize } from '../schema/formats.js';

/**
 * Drive values as create/update accept them (check_drive_param, create_disks):
 * `<storage>:<GiB>` allocates, `<storage>:0,import-from=<src>` imports,
 * `<storage>:cloudinit` makes the cloud-init drive, anything else must name
 * an existing volume, `none`/`cdrom`, or (root only) an absolute path.
 */
export type DrivePlan =
  | { key: string; kind: 'keep'; parsed: Record<string, string> }
  | { key: string; kind: 'alloc'; parsed: Record<string, string>; storage: StorageDef; size: number }
  | { key: string; kind: 'import'; parsed: Record<string, string>; storage: StorageDef; source: Volume }
  | { key: string; kind: 'cloudinit'; parsed: Record<string, string>; storage: StorageDef };

function imagesStorage(core: SimCore, id: string, node: string): StorageDef {
  const s = core.requireStorageOn(id, node);
  if (!s.content.includes('images')) paramError({ storage: `storage '${id}' does not support vm images` });
  return s;
}

/** The synchronous checks for one drive parameter; throws PVE's 400/403/500. */
export function planDrive(core: SimCore, auth: AuthId, node: string, key: string, value: string, existing?: Guest): DrivePlan {
  const parsed = parseOption(key, value);
  const file = parsed.file ?? '';
  const importFrom = parsed['import-from'];
  const alloc = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(\d+(?:\.\d+)?)$/i.exec(file);
  if (importFrom !== undefined) {
    if (!alloc || Number(alloc[2]) !== 0)
      paramError({ [key]: "'import-from' requires special syntax - use <storage ID>:0,import-from=<source>" });
    const storage = imagesStorage(core, alloc[1]!, node);
    core.check(auth, `/storage/${storage.storage}`, ['Datastore.AllocateSpace']);
    if (importFrom.startsWith('/')) {
      if (!isRoot(auth)) throw new ApiError(403, 'Only root can pass arbitrary filesystem paths.\n');
      die(`import from absolute path '${importFrom}' is not supported by pve-sim`);
    }
    const src = parseVolid(importFrom);
    const srcStorage = src ? core.storage(src.storage) : undefined;
    const vtype = src && srcStorage ? volumeContent(srcStorage, src.name) : undefined;
    if (vtype !== 'images' && vtype !== 'import') paramError({ [key]: `${importFrom} has wrong type '${vtype ?? ''}' - needs to be 'images' or 'import'` });
    core.check(auth, `/storage/${src!.storage}`, ['Datastore.Audit', 'Datastore.AllocateSpace'], true);
    const source = core.volume(importFrom, node);
    if (!source) die(`volume '${importFrom}' does not exist`);
    return { key, kind: 'import', parsed, storage, source };
  }
  if (alloc) {
    const storage = imagesStorage(core, alloc[1]!, node);
    core.check(auth, `/storage/${storage.storage}`, ['Datastore.AllocateSpace']);
    return { key, kind: 'alloc', parsed, storage, size: Math.round(Number(alloc[2]) * GiB) };
  }
  const ci = /^([a-z][a-z0-9\-_.]*[a-z0-9]):cloudinit$/i.exec(file);
  if (ci) {
    const storage = imagesStorage(core, ci[1]!, node);
    core.check(auth, `/storage/${storage.storage}`, ['Datastore.AllocateSpace']);
    const cfg = existing ? { ...existing.config, ...existing.pending } : {};
    for (const [k, v] of Object.entries(cfg)) {
      if (k !== key && /cloudinit/.test(v.split(',')[0] ?? '') && /^(ide|sata|scsi|virtio)\d+$/.test(k))
        paramError({ [key]: `${storage.storage} - cloud-init drive is already attached at '${k}'` });
    }
    return { key, kind: 'cloudinit', parsed, storage };
  }
  if (file === 'none' || file === 'cdrom') return { key, kind: 'keep', parsed };
  if (file.startsWith('/')) {
    if (!isRoot(auth)) throw new ApiError(403, 'Only root can pass arbitrary filesystem paths.\n');
    // A device newly put in a slot is sized from the node (create_disks); an unknown one does not exist.
    const current = existing ? parseDriveFile({ ...existing.config, ...existing.pending }[key]) : undefined;
    if (file.startsWith('/dev/') && current !== file) {
      const disk = core.nodeDisk(node, file);
      if (!disk) die(`volume ${file} does not exist`);
      parsed.size = formatSize(disk.size);
    }
    return { key, kind: 'keep', parsed };
  }
  const vol = parseVolid(file);
  const s = vol ? core.storage(vol.storage) : undefined;
  if (!vol || !s) die(`storage '${vol?.storage ?? file}' does not exist`);
  const vtype = volumeContent(s, vol.name);
  if (vtype === 'iso') {
    if (parsed.media !== 'cdrom') paramError({ [key]: "explicit 'media=cdrom' is required for iso images" });
    core.check(auth, `/storage/${s.storage}`, ['Datastore.Audit', 'Datastore.AllocateSpace'], true);
    if (!core.volume(file, node)) die(`volume '${file}' does not exist`);
  } else if (!core.volume(file, node)) {
    die(`volume '${file}' does not exist`);
  }
  return { key, kind: 'keep', parsed };
}

function parseDriveFile(value: string | undefined): string | undefined {
  return value === undefined ? undefined : (value.split(',')[0] ?? '');
}

/** Allocates what a plan needs (inside a task, or synchronously for PUT config) and returns the drive value. */
export async function realiseDrive(core: SimCore, node: string, vmid: number, plan: DrivePlan, log: (l: string) => void, signal?: AbortSignal): Promise<string> {
  const p = { ...plan.parsed };
  if (plan.kind === 'keep') return printOption(plan.key, p);
  const s = plan.storage;
  const owner = s.shared ? null : node;
  if (plan.kind === 'cloudinit') {
    const { name, format } = cloudinitName(s, vmid);
    const vol: Volume = { volid: `${s.storage}:${name}`, storage: s.storage, node: owner, content: 'images', format, size: 4 * 1024 * 1024, ctime: core.now(), vmid };
    if (!core.volume(vol.volid, node)) {
      // vdisk_alloc, inside the storage lock.
      await core.withStorageLock(s, node, async () => {
        core.checkSpace(s, node, vol.size, name, noSpaceMessage);
        await core.backend.allocateVolume(vol, s);
        core.addVolume(vol);
      }, signal);
    }
    log(`${plan.key}: successfully created disk '${vol.volid},media=cdrom'`);
    p.file = vol.volid;
    p.media = 'cdrom';
    return printOption(plan.key, p);
  }
  const fmt = s.type === 'dir' ? (p.format ?? s.format ?? 'raw') : 'raw';
  // An imported qcow2 keeps its virtual size, as qemu-img info reports it to PVE.
  const size = plan.kind === 'alloc' ? plan.size : (plan.source.virtualSize ?? plan.source.size);
  // The name is chosen and the volume allocated (or copied) inside the storage lock, as vdisk_alloc does.
  const vol = await core.withStorageLock(s, node, async () => {
    const existing = core.volumesOn(s, node).map((v) => parseVolid(v.volid)?.name ?? '');
    const { name, format } = newDiskName(s, vmid, nextDiskIndex(vmid, existing), fmt);
    core.checkSpace(s, node, size, name, noSpaceMessage);
    const v: Volume = { volid: `${s.storage}:${name}`, storage: s.storage, node: owner, content: 'images', format, size, ctime: core.now(), vmid };
    if (plan.kind === 'import') {
      log(`importing disk '${plan.source.volid}' to VM ${vmid} ...`);
      await core.backend.copyVolume(plan.source, v, s);
    } else {
      await core.backend.allocateVolume(v, s);
    }
    core.addVolume(v);
    return v;
  }, signal);
  log(`${plan.key}: successfully created disk '${vol.volid},size=${formatSize(size)}'`);
  delete p['import-from'];
  p.file = vol.volid;
  p.size = formatSize(size);
  if (s.type !== 'dir') delete p.format;
  return printOption(plan.key, p);
}

/** Volume ids a config references (drives that are not cd-roms, plus unusedN). */
export function configVolumes(config: Record<string, string>): { key: string; volid: string }[] {
  const out: { key: string; volid: string }[] = [];
  for (const [k, v] of Object.entries(config)) {
    if (!/^(ide|sata|scsi|virtio)\d+$|^efidisk0$|^tpmstate0$|^unused\d+$/.test(k)) continue;
    const file = v.split(',')[0] ?? '';
    if (!parseVolid(file)) continue;
    if (isCdrom(v) && !/cloudinit/.test(file)) continue;
    out.push({ key: k, volid: file });
  }
  return out;
}

/** The first free `unusedN` key. */
export function nextUnusedKey(config: Record<string, string>): string {
  let i = 0;
  while (config[`unused${i}`] !== undefined) i++;
  return `unused${i}`;
}
