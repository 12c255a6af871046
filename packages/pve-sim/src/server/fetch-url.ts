import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface FetchedUrl {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  url: string;
}

export interface FetchOptions {
  method?: 'GET' | 'HEAD';
  verify: boolean;
  /** Socket idle timeout (not a limit on the whole transfer). Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * The node's own HTTP client for download-url and query-url-metadata: follows
 * up to 5 redirects; `verify` false skips certificate checks as
 * `verify-certificates=0` does. Resolves with the final response, unread.
 */
function openUrl(url: string, opts: FetchOptions, redirects = 5): Promise<{ res: IncomingMessage; url: string }> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`invalid URL '${url}'`));
      return;
    }
    if (opts.signal?.aborted) {
      reject(opts.signal.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
      return;
    }
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: opts.method ?? 'GET', rejectUnauthorized: opts.verify, timeout: opts.timeoutMs ?? 30000, ...(opts.signal ? { signal: opts.signal } : {}) },
      (res) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (status >= 300 && status < 400 && location && redirects > 0) {
          res.resume();
          openUrl(new URL(location, u).toString(), opts, redirects - 1).then(resolve, reject);
          return;
        }
        resolve({ res, url: u.toString() });
      },
    );
    req.on('timeout', () => req.destroy(new Error('download timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Fetches a URL into memory (HEAD requests and small bodies only). */
export async function fetchUrl(url: string, opts: FetchOptions): Promise<FetchedUrl> {
  const { res, url: final } = await openUrl(url, opts);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks), url: final };
}

export interface DownloadedFile {
  status: number;
  statusText: string;
  /** Bytes written to `dest` (0 unless status is 200). */
  size: number;
  /** Hex digests of the content, for each algorithm asked for. */
  checksums: Record<string, string>;
  /** The virtual size in a qcow2 header, when the file is a qcow2 image. */
  virtualSize?: number;
}

/**
 * Streams a URL into `dest` (created exclusively), hashing on the way, so the
 * file never sits in memory. Only a 200 writes a file. `maxBytes` aborts with
 * `tooLarge()`'s error once exceeded (the storage filling up). On any failure
 * `dest` is removed before the promise rejects.
 */
export async function downloadToFile(
  url: string,
  dest: string,
  opts: FetchOptions & { algorithms: readonly string[]; maxBytes?: number; tooLarge?: () => Error },
): Promise<DownloadedFile> {
  const { res } = await openUrl(url, { ...opts, method: 'GET' });
  const status = res.statusCode ?? 0;
  const statusText = res.statusMessage ?? '';
  if (status !== 200) {
    res.resume();
    return { status, statusText, size: 0, checksums: {} };
  }
  const hashes = [...new Set(opts.algorithms)].map((a) => [a, createHash(a)] as const);
  let size = 0;
  let head = Buffer.alloc(0);
  const max = opts.maxBytes ?? Infinity;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (head.length < 32) head = Buffer.concat([head, chunk.subarray(0, 32 - head.length)]);
      size += chunk.length;
      if (size > max) {
        cb(opts.tooLarge?.() ?? new Error('file too large'));
        return;
      }
      for (const [, h] of hashes) h.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    const file = createWriteStream(dest, { flags: 'wx' });
    if (opts.signal) await pipeline(res, meter, file, { signal: opts.signal });
    else await pipeline(res, meter, file);
  } catch (err) {
    await rm(dest, { force: true });
    const reason = opts.signal?.aborted ? opts.signal.reason : undefined;
    throw reason instanceof Error ? reason : err;
  }
  const checksums: Record<string, string> = {};
  for (const [a, h] of hashes) checksums[a] = h.digest('hex');
  // qcow2: magic "QFI\xfb", then the virtual size as a big-endian u64 at offset 24.
  const virtualSize = head.length >= 32 && head.readUInt32BE(0) === 0x514649fb ? Number(head.readBigUInt64BE(24)) : undefined;
  return { status, statusText, size, checksums, ...(virtualSize ? { virtualSize } : {}) };
}
