import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';

/** The package mirrors guests may reach through the proxy; everything else is refused. */
export const MIRROR_HOSTS: readonly string[] = ['deb.debian.org', 'security.debian.org', 'archive.ubuntu.com', 'security.ubuntu.com'];

/** Whether a proxied request may be forwarded. Pure. */
export function allowProxyRequest(method: string | undefined, url: string | undefined, allowed: readonly string[] = MIRROR_HOSTS): { ok: true; target: URL } | { ok: false; reason: string } {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false, reason: `method ${method} is not allowed` };
  let target: URL;
  try {
    target = new URL(url ?? '');
  } catch {
    return { ok: false, reason: 'not a proxy request (absolute http:// URL expected)' };
  }
  if (target.protocol !== 'http:') return { ok: false, reason: `${target.protocol} is not proxied` };
  if (!allowed.includes(target.hostname)) return { ok: false, reason: `${target.hostname} is not a package mirror` };
  return { ok: true, target };
}

/**
 * An apt proxy for offline guests. The HTTP proxy listens on a Unix socket in the host's network
 * namespace (which reaches the package mirrors); socat, run inside the lab namespace, exposes it on
 * the lab bridge. Guests reach nothing but the mirrors, and the host is never routed into the lab.
 */
export class AptProxy {
  private constructor(
    private readonly server: Server,
    private readonly forwarder: ResultPromise,
    readonly url: string,
    private readonly socket: string,
  ) {}

  static async start(opts: { socket: string; listenAddress: string; port?: number; inNamespace: (argv: readonly string[]) => string[] }): Promise<AptProxy> {
    rmSync(opts.socket, { force: true });
    const server = createServer((req, res) => forward(req, res));
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.socket, resolve));
    const port = opts.port ?? 3142;
    const argv = opts.inNamespace(['socat', `TCP-LISTEN:${port},bind=${opts.listenAddress},fork,reuseaddr`, `UNIX-CONNECT:${opts.socket}`]);
    const forwarder = execa(argv[0]!, argv.slice(1), { reject: false });
    // socat binds at once; give it a moment and make sure it did not exit on an error.
    await new Promise((r) => setTimeout(r, 300));
    if (forwarder.exitCode !== null) {
      server.close();
      throw new Error(`apt proxy forwarder exited: ${(await forwarder).stderr}`);
    }
    return new AptProxy(server, forwarder, `http://${opts.listenAddress}:${port}`, opts.socket);
  }

  async stop(): Promise<void> {
    this.forwarder.kill('SIGTERM');
    await this.forwarder.catch(() => undefined);
    await new Promise<void>((r) => this.server.close(() => r()));
    rmSync(this.socket, { force: true });
  }
}

function forward(req: IncomingMessage, res: ServerResponse): void {
  const verdict = allowProxyRequest(req.method, req.url);
  if (!verdict.ok) {
    res.writeHead(403, { 'content-type': 'text/plain' }).end(`${verdict.reason}\n`);
    return;
  }
  const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: verdict.target.host };
  delete headers['proxy-connection'];
  const upstream = request(verdict.target, { method: req.method, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.setTimeout(60_000, () => upstream.destroy(new Error('upstream timeout')));
  upstream.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`upstream error: ${e.message}\n`);
  });
  req.pipe(upstream);
}
