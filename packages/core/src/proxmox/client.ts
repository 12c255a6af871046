import type { Agent } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import type { ApiRequestable, Proxmox } from 'proxmox-api';
import { FingerprintMismatchError, ProxmoxApiError, ProxmoxUnreachableError } from './errors.js';
import type { TlsPolicy } from './fingerprint.js';
import { encodeParams, type HttpMethod } from './params.js';
import { endpointAgent } from './tls.js';

export interface ProxmoxConnection {
  /** e.g. https://pve1.lab.example:8006 */
  readonly endpoint: string;
  /** USER@REALM!NAME */
  readonly tokenId: string;
  readonly tokenSecret: string;
  /**
   * Log in with a password instead of the token (a ticket, renewed when it nears its 2 h life): for
   * what Proxmox lets root@pam alone do. The token fields then only name the connection.
   */
  readonly login?: { readonly username: string; readonly password: string };
  readonly tls: TlsPolicy;
  /** Per request; default 30 s. */
  readonly timeoutMs?: number;
}

/**
 * The Proxmox VE API client every layer uses: npm `proxmox-api`'s typed paths over ahl's own
 * transport, which applies the TLS policy (CA, or a pinned fingerprint checked before the token is
 * sent), turns error statuses into `ProxmoxApiError`, counts calls, and never puts the token in an
 * error message.
 */
export class ProxmoxClient implements ApiRequestable {
  /** Requests sent, by "METHOD /path/template". */
  readonly calls = new Map<string, number>();
  private readonly base: URL;
  private readonly agent: Agent;
  private readonly transport: typeof httpRequest;
  private readonly auth: string;
  private ticket: { cookie: string; csrf: string; at: number } | undefined;
  private typed: Proxmox.Api | undefined;

  constructor(readonly connection: ProxmoxConnection) {
    this.base = new URL(connection.endpoint);
    this.agent = endpointAgent(this.base.protocol, connection.tls);
    this.transport = this.base.protocol === 'https:' ? httpsRequest : httpRequest;
    this.auth = `PVEAPIToken=${connection.tokenId}=${connection.tokenSecret}`;
  }

  /**
   * Typed access: `client.api.nodes.$(node).qemu.$get()`. proxmox-api (and the undici it loads) is
   * loaded on first use: `request` does not need it.
   */
  get api(): Proxmox.Api {
    if (!this.typed) {
      const proxmoxApi = (createRequire(import.meta.url)('proxmox-api') as { proxmoxApi: (r: ApiRequestable) => Proxmox.Api }).proxmoxApi;
      this.typed = proxmoxApi(this);
    }
    return this.typed;
  }

  get callCount(): number {
    let n = 0;
    for (const c of this.calls.values()) n += c;
    return n;
  }

  /** Generic access by path (without /api2/json), for endpoints the typed model lacks. */
  request<T = unknown>(method: HttpMethod, path: string, params?: Readonly<Record<string, unknown>>): Promise<T> {
    return this.doRequest(method, `/api2/json${path}`, path, params ? { ...params } : undefined) as Promise<T>;
  }

  /** Implements proxmox-api's transport. */
  async doRequest(httpMethod: string, path: string, pathTemplate: string, params?: { [key: string]: unknown }): Promise<unknown> {
    const method = httpMethod.toUpperCase() as HttpMethod;
    const shownPath = path.replace(/^\/api2\/json/, '');
    const key = `${method} ${pathTemplate.replace(/^\/api2\/json/, '')}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
    const url = new URL(path, this.base);
    const body = encodeParams(params);
    const withBody = method === 'POST' || method === 'PUT';
    if (!withBody) body.forEach((v, k) => url.searchParams.append(k, v));
    const headers: Record<string, string> = { Accept: 'application/json', ...(key === 'POST /access/ticket' ? {} : await this.authHeaders(method)) };
    if (withBody) headers['Content-Type'] = 'application/x-www-form-urlencoded';

    const payload = withBody ? body.toString() : undefined;
    if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
    let res;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await this.send(url, method, headers, payload);
        break;
      } catch (e) {
        // Only reads are retried: a write that may have reached the server is never sent twice.
        if (method === 'GET' && attempt === 0 && !(rootCause(e) instanceof FingerprintMismatchError)) continue;
        throw new ProxmoxUnreachableError(method, shownPath, describeNetworkError(e), rootCause(e));
      }
    }
    let json: { data?: unknown; errors?: Record<string, string>; message?: string } | undefined;
    try {
      json = res.text ? JSON.parse(res.text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status !== 200) throw new ProxmoxApiError(method, shownPath, res.status, res.statusText || json?.message?.trim() || '', json?.errors);
    return json?.data ?? null;
  }

  /** One HTTP exchange on the endpoint's agent, read to the end. */
  private send(url: URL, method: HttpMethod, headers: Record<string, string>, payload: string | undefined): Promise<{ status: number; statusText: string; text: string }> {
    return new Promise((resolve, reject) => {
      const req = this.transport(url, { method, headers, agent: this.agent, signal: AbortSignal.timeout(this.connection.timeoutMs ?? 30_000) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  private async authHeaders(method: HttpMethod): Promise<Record<string, string>> {
    const login = this.connection.login;
    if (!login) return { Authorization: this.auth };
    // Tickets last two hours; a fresh one is taken well before that.
    if (!this.ticket || Date.now() - this.ticket.at > 90 * 60_000) {
      this.ticket = undefined;
      const data = (await this.doRequest('POST', '/api2/json/access/ticket', '/access/ticket', { username: login.username, password: login.password })) as {
        ticket: string;
        CSRFPreventionToken: string;
      };
      this.ticket = { cookie: `PVEAuthCookie=${encodeURIComponent(data.ticket)}`, csrf: data.CSRFPreventionToken, at: Date.now() };
    }
    return { Cookie: this.ticket.cookie, ...(method === 'GET' ? {} : { CSRFPreventionToken: this.ticket.csrf }) };
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

function rootCause(e: unknown): unknown {
  let c = e;
  while (c && typeof c === 'object' && 'cause' in c && (c as { cause?: unknown }).cause) c = (c as { cause: unknown }).cause;
  return c;
}

function describeNetworkError(e: unknown): string {
  const c = rootCause(e) as { code?: string; message?: string; name?: string } | undefined;
  if (c instanceof FingerprintMismatchError) return c.message;
  if (c?.name === 'TimeoutError' || c?.name === 'AbortError') return 'timed out';
  const code = c?.code;
  if (code) return c.message && !c.message.includes(code) ? `${code}: ${c.message}` : code;
  return c?.message ?? String(e);
}
