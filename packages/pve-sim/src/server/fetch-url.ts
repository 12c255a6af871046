import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface FetchedUrl {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  url: string;
}

/**
 * The node's own HTTP client for download-url and query-url-metadata: follows
 * up to 5 redirects; `verify` false skips certificate checks as
 * `verify-certificates=0` does.
 */
export function fetchUrl(url: string, opts: { method?: 'GET' | 'HEAD'; verify: boolean; timeoutMs?: number }, redirects = 5): Promise<FetchedUrl> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`invalid URL '${url}'`));
      return;
    }
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method: opts.method ?? 'GET', rejectUnauthorized: opts.verify, timeout: opts.timeoutMs ?? 30000 },
      (res) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (status >= 300 && status < 400 && location && redirects > 0) {
          res.resume();
          fetchUrl(new URL(location, u).toString(), opts, redirects - 1).then(resolve, reject);
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status, statusText: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks), url: u.toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('download timed out')));
    req.on('error', reject);
    req.end();
  });
}
