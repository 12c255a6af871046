import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { die, paramError } from '../errors.js';
import type { SimCore } from '../model/core.js';
import { fileFormat, normaliseUploadName, parseVolid, storageOnNode, uploadExtensionOk, volumePath } from '../model/storage.js';
import type { StorageDef, Volume } from '../model/types.js';
import { splitList } from '../schema/formats.js';
import { downloadToFile, fetchUrl } from '../server/fetch-url.js';
import { type HandlerCtx, bool, int, reqStr, str } from './context.js';

const AUDIT_OR_SPACE = ['Datastore.Audit', 'Datastore.AllocateSpace'];

function storageConfig(s: StorageDef, core: SimCore): Record<string, unknown> {
  const out: Record<string, unknown> = {
    storage: s.storage,
    type: s.type,
    content: [...s.content].sort().join(','),
    digest: createHash('sha1').update(JSON.stringify(core.state.storages)).digest('hex'),
  };
  if (s.type === 'dir') out.path = s.path;
  if (s.type === 'lvmthin') {
    out.vgname = s.vgname;
    out.thinpool = s.thinpool;
  }
  if (s.type === 'zfspool') {
    out.pool = s.pool;
    out.sparse = 1;
  }
  if (s.shared) out.shared = 1;
  if (s.nodes) out.nodes = s.nodes.join(',');
  if (s.disable) out.disable = 1;
  if (s.format) out.format = s.format;
  return out;
}

export function listStorageConfig(ctx: HandlerCtx): unknown {
  const type = str(ctx, 'type');
  return ctx.core.state.storages
    .filter((s) => (!type || s.type === type) && ctx.core.can(ctx.auth, `/storage/${s.storage}`, AUDIT_OR_SPACE, true))
    .sort((a, b) => a.storage.localeCompare(b.storage))
    .map((s) => storageConfig(s, ctx.core));
}

export function getStorageConfig(ctx: HandlerCtx): unknown {
  const id = reqStr(ctx, 'storage');
  const s = ctx.core.storage(id);
  if (!s) die(`storage '${id}' does not exist`);
  return storageConfig(s, ctx.core);
}

function nodeStorageEntry(core: SimCore, s: StorageDef, node: string): Record<string, unknown> {
  const st = core.storageStatus(s, node);
  const e: Record<string, unknown> = {
    storage: s.storage,
    type: s.type,
    content: [...s.content].sort().join(','),
    enabled: st.enabled,
    active: st.active,
    shared: s.shared ? 1 : 0,
  };
  if (st.active) {
    e.total = st.total;
    e.used = st.used;
    e.avail = st.avail;
    e.used_fraction = st.total > 0 ? st.used / st.total : 0;
  }
  return e;
}

export function listNodeStorage(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const only = str(ctx, 'storage');
  if (only !== undefined && !core.storage(only)) paramError({ storage: 'No such storage.' });
  const content = str(ctx, 'content');
  const wanted = content ? splitList(content) : [];
  const enabledOnly = bool(ctx, 'enabled') ?? false;
  const target = str(ctx, 'target');
  const out = [];
  for (const s of [...core.state.storages].sort((a, b) => a.storage.localeCompare(b.storage))) {
    if (only !== undefined && s.storage !== only) continue;
    if (!storageOnNode(s, node)) continue;
    if (target && !storageOnNode(s, target)) continue;
    if (!core.can(ctx.auth, `/storage/${s.storage}`, AUDIT_OR_SPACE, true)) continue;
    if (wanted.length && !wanted.some((c) => s.content.includes(c))) continue;
    if (enabledOnly && s.disable) continue;
    out.push(nodeStorageEntry(core, s, node));
  }
  return out;
}

export function storageStatus(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const s = core.storage(reqStr(ctx, 'storage'));
  if (!s || !storageOnNode(s, node)) paramError({ storage: 'No such storage.' });
  const e = nodeStorageEntry(core, s, node);
  delete e.storage;
  delete e.used_fraction;
  return e;
}

function contentEntry(v: Volume): Record<string, unknown> {
  const e: Record<string, unknown> = { volid: v.volid, content: v.content, format: v.format, size: v.size, ctime: v.ctime };
  if (v.vmid !== undefined) e.vmid = v.vmid;
  if (v.content === 'images') e.used = v.parent ? 0 : v.size;
  if (v.parent) e.parent = v.parent;
  if (v.notes !== undefined) e.notes = v.notes;
  if (v.protected) e.protected = 1;
  if (v.content === 'backup') e.subtype = 'qemu';
  return e;
}

export function listContent(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const s = core.requireStorageOn(reqStr(ctx, 'storage'), node);
  const content = str(ctx, 'content');
  const vmid = int(ctx, 'vmid');
  const can = core.canMany(ctx.auth);
  return core
    .volumesOn(s, node)
    .filter((v) => (!content || v.content === content) && (vmid === undefined || v.vmid === vmid))
    .filter((v) => v.content !== 'images' || v.vmid === undefined || can(`/vms/${v.vmid}`, ['VM.Audit']) || can(`/storage/${s.storage}`, ['Datastore.Audit']))
    .sort((a, b) => a.volid.localeCompare(b.volid))
    .map(contentEntry);
}

/** `{volume}` may be a full volid or a name on `{storage}`; a different storage id is 400. */
function resolveVolume(ctx: HandlerCtx): { s: StorageDef; volid: string; node: string } {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const storage = reqStr(ctx, 'storage');
  const volume = reqStr(ctx, 'volume');
  const parsed = parseVolid(volume);
  let volid = `${storage}:${volume}`;
  if (parsed && core.storage(parsed.storage)) {
    if (parsed.storage !== storage) paramError({ volume: `storage ID mismatch (${parsed.storage} != ${storage})` });
    volid = volume;
  }
  const s = core.requireStorageOn(storage, node);
  return { s, volid, node };
}

function checkVolumeAccess(ctx: HandlerCtx, s: StorageDef, v: Volume | undefined, privs: string[]): void {
  const { core, auth } = ctx;
  if (v?.content === 'images' && v.vmid !== undefined) {
    if (core.can(auth, `/storage/${s.storage}`, ['Datastore.Allocate'])) return;
    core.check(auth, `/vms/${v.vmid}`, ['VM.Config.Disk']);
    return;
  }
  core.check(auth, `/storage/${s.storage}`, privs, true);
}

export function getContent(ctx: HandlerCtx): unknown {
  const { s, volid, node } = resolveVolume(ctx);
  const v = ctx.core.volume(volid, node);
  checkVolumeAccess(ctx, s, v, AUDIT_OR_SPACE);
  if (!v) die(`volume '${volid}' does not exist`);
  const path = ctx.core.backend.volumePath?.(v, s) ?? volumePath(s, parseVolid(volid)!.name);
  const out: Record<string, unknown> = { path, size: v.size, used: v.parent ? 0 : v.size, format: v.format };
  if (v.notes !== undefined) out.notes = v.notes;
  if (v.protected) out.protected = 1;
  return out;
}

export async function deleteContent(ctx: HandlerCtx): Promise<unknown> {
  const { core } = ctx;
  const { s, volid, node } = resolveVolume(ctx);
  const v = core.volume(volid, node);
  checkVolumeAccess(ctx, s, v, ['Datastore.Allocate']);
  if (!v) die(`volume '${volid}' does not exist`);
  if (v.protected) die(`volume '${volid}' is protected`);
  const owner = v.vmid;
  const upid = core.tasks.start(node, 'imgdel', owner !== undefined && v.content === 'images' ? `${owner}@${s.storage}` : s.storage, ctx.auth.id, async (task) => {
    await task.delay();
    const still = core.volume(volid, node);
    if (!still) throw new Error(`volume '${volid}' does not exist`);
    await core.backend.freeVolume(still, s);
    core.removeVolume(still);
    task.log(`Removed volume '${volid}'`);
  });
  const delay = int(ctx, 'delay');
  if (delay === undefined) return upid;
  const done = await Promise.race([core.tasks.wait(upid), new Promise<undefined>((r) => setTimeout(() => r(undefined), delay * 1000))]);
  if (!done) return upid;
  if (done.exitstatus !== 'OK') die(done.exitstatus ?? 'unexpected status');
  return null;
}

/**
 * Digests recorded for a download: sha256 always (seeded files carry it too)
 * plus the algorithm the request verified with. Hashing happens while the file
 * streams to disk; all six algorithms would cost seconds per GiB.
 */
function digestAlgorithms(algo: string | undefined): string[] {
  return algo && algo !== 'sha256' ? ['sha256', algo] : ['sha256'];
}

export function downloadUrl(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const node = reqStr(ctx, 'node');
  const s = core.requireStorageOn(reqStr(ctx, 'storage'), node);
  const content = reqStr(ctx, 'content');
  const url = reqStr(ctx, 'url');
  if (s.type !== 'dir') die(`can't upload to storage type '${s.type}', not a file based storage!`);
  if (!s.content.includes(content)) die(`storage '${s.storage}' is not configured for content-type '${content}'`);
  const filename = normaliseUploadName(reqStr(ctx, 'filename'));
  if (!uploadExtensionOk(content, filename)) paramError({ filename: content === 'import' ? 'invalid filename or wrong extension' : 'wrong file extension' });
  const compression = str(ctx, 'compression');
  if (compression !== undefined && content !== 'iso') paramError({ compression: 'decompression is only supported for ISO images' });
  const checksum = str(ctx, 'checksum')?.toLowerCase();
  const algo = str(ctx, 'checksum-algorithm');
  const verify = bool(ctx, 'verify-certificates') ?? true;
  const sub = content === 'iso' ? 'iso' : content;
  const volid = `${s.storage}:${sub}/${filename}`;
  const path = volumePath(s, `${sub}/${filename}`);
  return core.tasks.start(node, 'download', filename, ctx.auth.id, async (task) => {
    const existing = core.volume(volid, node);
    if (existing) {
      if (checksum && algo) {
        const got = existing.checksums?.[algo];
        if (got === checksum) {
          task.log(`file already exists ${path} and checksum matches - no need to download`);
          return;
        }
        throw new Error(`checksum mismatch: got '${got ?? 'unknown'}' != expect '${checksum}', aborting`);
      }
      throw new Error(`refusing to override existing file '${path}'`);
    }
    task.log(`downloading ${url} to ${path}`);
    await task.delay(0.5);
    const noSpace = (): string => `write failed: No space left on device\n`;
    let full: Error | undefined;
    const tmp = core.tempFile(filename);
    const avail = core.fullStorages.has(s.storage) ? 0 : core.storageStatus(s, node).avail;
    const res = await downloadToFile(url, tmp, { verify, signal: task.signal, algorithms: digestAlgorithms(algo), maxBytes: avail, tooLarge: () => (full = new Error(noSpace())) }).catch((err: Error) => {
      if (task.signal.aborted) throw task.signal.reason;
      if (err === full) throw err;
      throw new Error(`download failed: ${err.message}`);
    });
    if (res.status !== 200) throw new Error(`download failed: ${res.status} ${res.statusText}`);
    try {
      task.log(`download of '${url}' to '${path}' finished`);
      if (checksum && algo) {
        task.log('calculating checksum...');
        if (res.checksums[algo] !== checksum) throw new Error(`checksum mismatch: got '${res.checksums[algo]}' != expect '${checksum}'`);
        task.log('OK, checksum verified');
      }
      await task.delay(0.5);
      const vol: Volume = { volid, storage: s.storage, node: s.shared ? null : node, content, format: fileFormat(content, filename), size: res.size, ...(res.virtualSize ? { virtualSize: res.virtualSize } : {}), ctime: core.now(), checksums: res.checksums };
      core.checkSpace(s, node, vol.size, `${sub}/${filename}`, noSpace);
      if (core.volume(volid, node)) throw new Error(`refusing to override existing file '${path}'`);
      await core.storeFile(vol, s, tmp, res.size);
      core.addVolume(vol);
    } finally {
      await rm(tmp, { force: true });
    }
  });
}

export async function queryUrlMetadata(ctx: HandlerCtx): Promise<unknown> {
  const url = reqStr(ctx, 'url');
  const verify = bool(ctx, 'verify-certificates') ?? true;
  let res;
  try {
    res = await fetchUrl(url, { method: 'HEAD', verify, timeoutMs: 10000 });
  } catch (err) {
    die(`invalid server response: '500 ${(err as Error).message}'`);
  }
  if (res.status !== 200) die(`invalid server response: '${res.status} ${res.statusText}'`);
  const out: Record<string, unknown> = {};
  const disposition = String(res.headers['content-disposition'] ?? '');
  const fromHeader = /filename="?([^";]+)"?/.exec(disposition)?.[1];
  out.filename = fromHeader ?? decodeURIComponent(new URL(res.url).pathname.split('/').pop() ?? '');
  if (res.headers['content-length'] !== undefined) out.size = Number(res.headers['content-length']);
  if (res.headers['content-type'] !== undefined) out.mimetype = String(res.headers['content-type']);
  return out;
}

// ---- vzdump --------------------------------------------------------------------

function stamp(sec: number): string {
  const d = new Date(sec * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}_${p(d.getMonth() + 1)}_${p(d.getDate())}-${p(d.getHours())}_${p(d.getMinutes())}_${p(d.getSeconds())}`;
}

export function vzdump(ctx: HandlerCtx): unknown {
  const { core, auth } = ctx;
  const node = reqStr(ctx, 'node');
  const all = bool(ctx, 'all') ?? false;
  const list = splitList(str(ctx, 'vmid') ?? '').map(Number);
  if (!all && list.length === 0) paramError({ vmid: 'property is missing and it is not optional' });
  const storageId = str(ctx, 'storage') ?? core.state.storages.find((s) => s.content.includes('backup'))?.storage ?? 'local';
  const s = core.requireStorageOn(storageId, node);
  if (!s.content.includes('backup')) die(`storage '${storageId}' does not support backups`);
  core.check(auth, `/storage/${storageId}`, ['Datastore.AllocateSpace']);
  const vmids = all ? Object.values(core.state.guests).map((g) => g.vmid) : list;
  for (const id of vmids) core.check(auth, `/vms/${id}`, ['VM.Backup']);
  for (const id of vmids) if (!core.guest(id)) die(`unable to find VM '${id}'`);
  const local = vmids.filter((id) => core.guest(id)?.node === node).sort((a, b) => a - b);
  if (local.length === 0) return 'OK';
  const compress = str(ctx, 'compress') ?? '0';
  const ext = { '0': '', '1': '.lzo', gzip: '.gz', lzo: '.lzo', zstd: '.zst' }[compress] ?? '';
  const mode = str(ctx, 'mode') ?? 'snapshot';
  const notes = str(ctx, 'notes-template');
  const prot = bool(ctx, 'protected') ?? false;
  return core.tasks.start(node, 'vzdump', local.length === 1 ? String(local[0]) : '', auth.id, async (task) => {
    task.log(`INFO: starting new backup job: vzdump ${local.join(' ')} --storage ${storageId} --mode ${mode}${compress !== '0' ? ` --compress ${compress}` : ''}`);
    let failed = 0;
    for (const id of local) {
      const g = core.guest(id);
      try {
        if (!g) throw new Error(`unable to find VM '${id}'`);
        if (g.config.lock) throw new Error(`VM is locked (${g.config.lock})`);
        task.log(`INFO: Starting Backup of VM ${id} (qemu)`);
        g.config.lock = 'backup';
        core.changed();
        const start = core.now();
        await task.delay(1 / local.length);
        const conf = { ...g.config };
        delete conf.lock;
        const disks = Object.keys(conf)
          .filter((k) => /^(ide|sata|scsi|virtio)\d+$|^efidisk0$|^tpmstate0$/.test(k))
          .filter((k) => !/media=cdrom/.test(conf[k]!))
          .map((k) => {
            const v = core.volume(conf[k]!.split(',')[0]!, node);
            return { key: k, size: v?.size ?? 0, format: v?.format ?? 'raw' };
          })
          .filter((d) => d.size > 0);
        const name = `vzdump-qemu-${id}-${stamp(start)}.vma${ext}`;
        const size = Math.max(4096, Math.floor(disks.reduce((a, d) => a + d.size, 0) / 64));
        core.checkSpace(s, node, size, `backup/${name}`, () => `vma_queue_write: write error - No space left on device\n`);
        const vol: Volume = {
          volid: `${storageId}:backup/${name}`,
          storage: storageId,
          node: s.shared ? null : node,
          content: 'backup',
          format: `vma${ext}`,
          size,
          ctime: start,
          vmid: id,
          backup: { vmid: id, config: conf, disks },
        };
        if (notes !== undefined) vol.notes = notes.replace(/\{\{vmid\}\}/g, String(id)).replace(/\{\{guestname\}\}/g, conf.name ?? `VM ${id}`);
        if (prot) vol.protected = 1;
        await core.storeEmptyFile(vol, s, name);
        core.addVolume(vol);
        task.log(`INFO: creating vzdump archive '${volumePath(s, `backup/${name}`)}'`);
        task.log(`INFO: Finished Backup of VM ${id} (00:00:01)`);
      } catch (err) {
        failed++;
        task.log(`ERROR: Backup of VM ${id} failed - ${(err as Error).message.replace(/\n$/, '')}`);
      } finally {
        if (g && g.config.lock === 'backup') delete g.config.lock;
        core.changed();
      }
    }
    if (failed) throw new Error(`job errors`);
    task.log('INFO: Backup job finished successfully');
  });
}

