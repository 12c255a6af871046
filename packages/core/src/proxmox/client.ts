import proxmoxApi, { type ApiRequestable, type Proxmox } from 'proxmox-api';
import { fetch, type Dispatcher } from 'undici';
import { FingerprintMismatchError, ProxmoxApiError, ProxmoxUnreachableError } from './errors.js';
import type { TlsPolicy } from './fingerprint.js';
import { encodeParams, type HttpMethod } from './params.js';
import { tlsDispatcher } from './tls.js';

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
  /** Typed access: `client.api.nodes.$(node).qemu.$get()`. */
  readonly api: Proxmox.Api;
  /** Requests sent, by "METHOD /path/template". */
  readonly calls = new Map<string, number>();
  private readonly base: URL;
  private readonly dispatcher: Dispatcher;
  private readonly auth: string;
  private ticket: { cookie: string; csrf: string; at: number } | undefined;

  constructor(readonly connection: ProxmoxConnection) {
    this.base = new URL(connection.endpoint);
    this.dispatcher = tlsDispatcher(connection.tls);
    this.auth = `PVEAPIToken=${connection.tokenId}=${connection.tokenSecret}`;
    this.api = proxmoxApi(this);
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

    let res;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await fetch(url, {
          method,
          headers,
          ...(withBody ? { body: body.toString() } : {}),
          dispatcher: this.dispatcher,
          signal: AbortSignal.timeout(this.connection.timeoutMs ?? 30_000),
        });
        break;
      } catch (e) {
        // Only reads are retried: a write that may have reached the server is never sent twice.
        if (method === 'GET' && attempt === 0 && !(rootCause(e) instanceof FingerprintMismatchError)) continue;
        throw new ProxmoxUnreachableError(method, shownPath, describeNetworkError(e), rootCause(e));
      }
    }
    const text = await res.text();
    let json: { data?: unknown; errors?: Record<string, string>; message?: string } | undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status !== 200) throw new ProxmoxApiError(method, shownPath, res.status, res.statusText || json?.message?.trim() || '', json?.errors);
    return json?.data ?? null;
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
    await this.dispatcher.close();
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
