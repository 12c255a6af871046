import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ahlError } from './errors.js';

/*
 * The one way ahl writes a file that must survive a crash: its state under .ahl/ and the records it
 * keeps for Git (template manifests, channels, captures). A reader sees the old content or the new,
 * never half of either, and once the promise resolves the new content is on disk (the file and the
 * directory entry both fsynced), so a power cut cannot bring back the old one or leave an empty file.
 */

/** Writes `data` into a new file `path` (which must not exist) and fsyncs it before closing. */
export async function writeSynced(path: string, data: string | Uint8Array, mode = 0o666): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Fsyncs a directory, so the names created, renamed or removed in it are on disk. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some filesystems (a few network and FUSE ones) cannot fsync a directory: there the rename is
    // as durable as they make it.
    if (!['EINVAL', 'ENOTSUP', 'EISDIR', 'EPERM'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `file` with `data` atomically and durably (its folder made when missing): the content goes
 * to a temporary file beside it, which is fsynced, renamed over `file`, and the folder fsynced.
 * Fails with FILE_UNWRITABLE naming the file; no temporary file is left behind.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(file);
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await mkdir(dir, { recursive: true });
    await writeSynced(tmp, data);
    await rename(tmp, file);
    await syncDir(dir);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw ahlError('FILE_UNWRITABLE', { path: file, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, { cause: e });
  }
}

/** Deterministic JSON (2-space indent, trailing newline) written with `writeFileAtomic`. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}
