import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { execa, type ResultPromise } from 'execa';

/**
 * The hosts (with their port, as URL.host has it) of the mirrors guests may reach: those of their
 * apt sources, that is of the mirror the guest image was built from (GuestImage.mirror).
 */
export function mirrorHosts(mirrors: readonly string[]): string[] {
  return [...new Set(mirrors.map((m) => new URL(m).host))].sort();
}

/** Whether a proxied request may be forwarded: GET or HEAD of an http:// URL on one of the `allowed` hosts. Pure. */
export function allowProxyRequest(method: string | undefined, url: string | undefined, allowed: readonly string[]): { ok: true; target: URL } | { ok: false; reason: string } {
  if (method !== 'GET' && method !== 'HEAD') return { ok: false, reason: `method ${method} is not allowed` };
  let target: URL;
  try {
    target = new URL(url ?? '');
  } catch {
    return { ok: false, reason: 'not a proxy request (absolute http:// URL expected)' };
  }
  if (target.protocol !== 'http:') return { ok: false, reason: `${target.protocol} is not proxied` };
  if (!allowed.includes(target.host)) return { ok: false, reason: `${target.host} is not a package mirror` };
  return { ok: true, target };
}

/**
 * An apt proxy for offline guests. The HTTP proxy listens on a Unix socket in the host's network
 * namespace (which reaches the package mirrors); socat, run inside the lab namespace, exposes it on
 * the lab bridge. Guests reach nothing but the mirrors given (`mirrors`: URLs, usually the one the
 * guest image was built from), and the host is never routed into the lab.
 */
export class AptProxy {
  private constructor(
    private readonly server: Server,
    private readonly forwarder: ResultPromise,
    readonly url: string,
    private readonly socket: string,
  ) {}

  static async start(opts: { socket: string; listenAddress: string; port?: number; mirrors: readonly string[]; inNamespace: (argv: readonly string[]) => string[] }): Promise<AptProxy> {
    rmSync(opts.socket, { force: true });
    const allowed = mirrorHosts(opts.mirrors);
    const server = createServer((req, res) => forward(req, res, allowed));
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

function forward(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): void {
  const verdict = allowProxyRequest(req.method, req.url, allowed);
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
