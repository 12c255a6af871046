import type { StorageDef, Volume } from './types.js';

/** Pure rules of the storage plugins pve-sim models (dir, lvmthin, zfspool). */

export const GiB = 1024 ** 3;

export function isPathStorage(s: StorageDef): boolean {
  return s.type === 'dir';
}

export function storageOnNode(s: StorageDef, node: string): boolean {
  return !s.nodes || s.nodes.includes(node);
}

/** Splits `storage:name`; undefined when it is not a volume id. */
export function parseVolid(volid: string): { storage: string; name: string } | undefined {
  const m = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.exec(volid);
  if (!m || !m[1] || !m[2]) return undefined;
  return { storage: m[1], name: m[2] };
}

/** The content type (vtype) of a volume name, as Plugin::parse_volname decides it. */
export function volumeContent(s: StorageDef, name: string): string | undefined {
  if (/^iso\/[^/]+$/.test(name)) return 'iso';
  if (/^vztmpl\/[^/]+$/.test(name)) return 'vztmpl';
  if (/^import\/[^/]+$/.test(name)) return 'import';
  if (/^backup\/[^/]+$/.test(name)) return 'backup';
  if (/^snippets\/[^/]+$/.test(name)) return 'snippets';
  if (s.type === 'dir' && /^(\d+)\/(.+)$/.test(name)) return 'images';
  if (s.type !== 'dir' && /^(?:base-\d+-disk-\d+\/)?(vm|base)-\d+-(disk-\d+|cloudinit)$/.test(name)) return 'images';
  return undefined;
}

/** The owner vmid of an images volume name. */
export function volumeOwner(name: string): number | undefined {
  const m = /(?:^|\/)(?:vm|base)-(\d+)-(?:disk-\d+|cloudinit)(?:\.\w+)?$/.exec(name);
  return m?.[1] ? Number(m[1]) : undefined;
}

/** The file format PVE reports for a non-image volume file name. */
export function fileFormat(content: string, file: string): string {
  if (content === 'iso') return 'iso';
  if (content === 'snippets') return 'snippet';
  if (content === 'vztmpl') {
    if (/\.tar\.zst$/.test(file)) return 'tzst';
    if (/\.tar\.gz$|\.tgz$/.test(file)) return 'tgz';
    if (/\.tar\.xz$/.test(file)) return 'txz';
    if (/\.tar\.bz2$/.test(file)) return 'tbz2';
    return 'tar';
  }
  if (content === 'backup') {
    const m = /\.(vma|tar)(\.(zst|gz|lzo))?$/.exec(file);
    return m ? `${m[1]}${m[2] ?? ''}` : 'raw';
  }
  const ext = /\.([a-z0-9]+)$/i.exec(file)?.[1]?.toLowerCase();
  return ext ?? 'raw';
}

/** The host path PVE would report for a volume. */
export function volumePath(s: StorageDef, name: string): string {
  const base = s.path ?? `/mnt/pve/${s.storage}`;
  if (s.type === 'lvmthin') return `/dev/${s.vgname ?? 'pve'}/${name}`;
  if (s.type === 'zfspool') return `/dev/zvol/${s.pool ?? s.storage}/${name}`;
  const sub: Record<string, string> = { iso: 'template/iso', vztmpl: 'template/cache', import: 'import', backup: 'dump', snippets: 'snippets' };
  const m = /^([a-z]+)\/(.+)$/.exec(name);
  if (m?.[1] && m[2] && sub[m[1]]) return `${base}/${sub[m[1]]}/${m[2]}`;
  const parts = name.split('/');
  return `${base}/images/${parts.slice(-2).join('/')}`;
}

export interface AllocationName {
  name: string;
  format: string;
}

/** The first free `disk-<k>` index of `vmid` among `names` on one storage. */
export function nextDiskIndex(vmid: number, names: string[]): number {
  const used = new Set<number>();
  for (const n of names) {
    const m = new RegExp(`(?:^|/)(?:vm|base)-${vmid}-disk-(\\d+)`).exec(n);
    if (m?.[1]) used.add(Number(m[1]));
  }
  let k = 0;
  while (used.has(k)) k++;
  return k;
}

/** The name of a newly allocated disk (`vm-<vmid>-disk-<k>`), per plugin. */
export function newDiskName(s: StorageDef, vmid: number, k: number, format?: string): AllocationName {
  if (s.type === 'dir') {
    const fmt = format ?? s.format ?? 'raw';
    return { name: `${vmid}/vm-${vmid}-disk-${k}.${fmt}`, format: fmt };
  }
  return { name: `vm-${vmid}-disk-${k}`, format: 'raw' };
}

export function cloudinitName(s: StorageDef, vmid: number): AllocationName {
  if (s.type === 'dir') return { name: `${vmid}/vm-${vmid}-cloudinit.qcow2`, format: 'qcow2' };
  return { name: `vm-${vmid}-cloudinit`, format: 'raw' };
}

/** The base (template) name of a disk: `vm-` becomes `base-`. */
export function baseName(s: StorageDef, name: string): string {
  if (s.type === 'dir') return name.replace(/(^|\/)vm-(\d+-disk-\d+)/, '$1base-$2');
  return name.replace(/^vm-/, 'base-');
}

/** Whether a linked clone from this volume is possible (Plugin::volume_has_feature 'clone'). */
export function canLinkClone(s: StorageDef, name: string, format: string): boolean {
  const isBase = /(?:^|\/)base-\d+-disk-\d+/.test(name) && !name.includes('/vm-');
  if (!isBase) return false;
  if (s.type === 'dir') return format === 'qcow2';
  return true;
}

/** The name of a linked clone of template volume `base` for `newid`. */
export function linkedCloneName(s: StorageDef, base: string, newid: number, k: number): AllocationName {
  if (s.type === 'dir') return { name: `${base.split('/')[0]}/${base.split('/').pop()}/${newid}/vm-${newid}-disk-${k}.qcow2`, format: 'qcow2' };
  if (s.type === 'zfspool') return { name: `${base}/vm-${newid}-disk-${k}`, format: 'raw' };
  return { name: `vm-${newid}-disk-${k}`, format: 'raw' };
}

/** Bytes used on a storage (per node for local storage). */
export function storageUsed(volumes: Volume[], s: StorageDef, node: string): number {
  return volumes.filter((v) => v.storage === s.storage && (s.shared || v.node === node)).reduce((sum, v) => sum + v.size, 0);
}

/** The error a full storage gives when `size` more bytes are requested. */
export function noSpaceMessage(s: StorageDef, name: string): string {
  if (s.type === 'lvmthin')
    return `lvcreate '${s.vgname ?? 'pve'}/${name}' error:   Cannot create new thin volume, free space in thin pool ${s.vgname ?? 'pve'}/${s.thinpool ?? 'data'} reached threshold.\n`;
  if (s.type === 'zfspool') return `zfs error: cannot create '${s.pool ?? s.storage}/${name}': out of space\n`;
  return `unable to create image: qemu-img: ${volumePath(s, name)}: Could not resize file: No space left on device\n`;
}

/** download-url filename rules: basename, unsafe characters to `_`, extension per content. */
export function normaliseUploadName(filename: string): string {
  const base = filename.split('/').pop() ?? filename;
  return base.replace(/[^a-zA-Z0-9_.-]/g, '_');
}

export function uploadExtensionOk(content: string, filename: string): boolean {
  if (content === 'iso') return /\.(iso|img)$/i.test(filename);
  if (content === 'vztmpl') return /\.tar(\.(gz|xz|zst|bz2))?$/i.test(filename);
  if (content === 'import') return /\.(ova|qcow2|raw|vmdk)$/i.test(filename);
  return false;
}
