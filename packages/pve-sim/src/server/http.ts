import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { gzipSync, deflateSync } from 'node:zlib';
import { LoginFailure } from '../api/access.js';
import type { HandlerCtx } from '../api/context.js';
import { matchRoute } from '../api/router.js';
import { type AuthId, evaluateCheck, parseAuthId } from '../auth/permissions.js';
import { verifyCsrfToken, verifyTicket } from '../auth/tickets.js';
import { ApiError } from '../errors.js';
import type { SimCore } from '../model/core.js';
import { normaliseParams, validateParams } from '../schema/validate.js';
import type { CallStats, FaultSet } from './faults.js';
import { type VersionTraits, cookieValue, decodeForm, reasonPhrase, ticketFromAuthorization, tokenFromAuthorization } from './protocol.js';

const MAX_BODY = 512 * 1024;
const JSON_TYPE = 'application/json;charset=UTF-8';

export interface HttpContext {
  core: SimCore;
  faults: FaultSet;
  stats: CallStats;
  traits: VersionTraits;
  authFailureDelayMs: number;
  control(req: IncomingMessage, res: ServerResponse, path: string, body: string): Promise<void>;
}

interface Reply {
  status: number;
  reason: string;
  /** undefined: no body and no Content-Type (PVE's raw error replies). */
  body?: string;
  contentType?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const now = new Date().toUTCString();
  const headers: Record<string, string> = {
    Server: 'pve-api-daemon/3.0',
    Date: now,
    Expires: now,
    'Cache-Control': 'max-age=0',
    Pragma: 'no-cache',
    Connection: reply.status < 400 ? 'Keep-Alive' : 'close',
  };
  let payload: Buffer | undefined;
  if (reply.body !== undefined) {
    payload = Buffer.from(reply.body, 'utf8');
    if (reply.contentType) headers['Content-Type'] = reply.contentType;
    const accept = String(req.headers['accept-encoding'] ?? '');
    if (payload.length > 1024 && /\bgzip\b/.test(accept)) {
      payload = gzipSync(payload);
      headers['Content-Encoding'] = 'gzip';
    } else if (payload.length > 1024 && /\bdeflate\b/.test(accept)) {
      payload = deflateSync(payload);
      headers['Content-Encoding'] = 'deflate';
    }
    headers['Content-Length'] = String(payload.length);
  } else {
    headers['Content-Length'] = '0';
  }
  res.writeHead(reply.status, reasonPhrase(reply.reason, STATUS_CODES[reply.status] ?? 'Error'), headers);
  res.end(payload);
}

function jsonReply(data: unknown, total?: number): Reply {
  const body: Record<string, unknown> = { data: data === undefined ? null : data };
  if (total !== undefined) body.total = total;
  return { status: 200, reason: 'OK', body: JSON.stringify(body), contentType: JSON_TYPE };
}

function errorReply(traits: VersionTraits, status: number, message: string, errors?: Record<string, string>): Reply {
  const body: Record<string, unknown> = { data: null };
  if (errors) body.errors = errors;
  if (traits.errorMessageInBody) body.message = message;
  return { status, reason: message, body: JSON.stringify(body), contentType: JSON_TYPE };
}

/** AnyEvent `error()`: status line text; the body is the text (none before http-server 5.2.0). */
function rawError(traits: VersionTraits, status: number, message: string): Reply {
  return traits.errorMessageInBody ? { status, reason: message, body: message } : { status, reason: message };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface AuthResult {
  auth?: AuthId;
  ticket: boolean;
  failure?: string;
}

/** PVE::HTTPServer::auth_handler: cookie first, then token header. */
function authenticate(ctx: HttpContext, req: IncomingMessage, method: string): AuthResult {
  const { core, traits } = ctx;
  const access = core.state.access;
  const generic = (raw: string): string => (traits.genericAuthFailure ? 'Authentication failed!' : raw);
  const ticket = cookieValue(req.headers.cookie, 'PVEAuthCookie') ?? ticketFromAuthorization(req.headers.authorization);
  if (ticket !== undefined) {
    const userid = verifyTicket(access.ticketKey, ticket, core.now());
    if (!userid) return { ticket: true, failure: generic('permission denied - invalid PVE ticket') };
    const user = access.users[userid];
    if (!user) return { ticket: true, failure: generic(`no such user ('${userid}')`) };
    if (!user.enable) return { ticket: true, failure: generic(`user '${userid}' is disabled`) };
    if (method !== 'GET') {
      const csrf = req.headers.csrfpreventiontoken;
      if (typeof csrf !== 'string' || !verifyCsrfToken(access.ticketKey, userid, csrf, core.now()))
        return { ticket: true, failure: 'Permission denied - invalid csrf token' };
    }
    return { ticket: true, auth: parseAuthId(userid) };
  }
  const token = tokenFromAuthorization(req.headers.authorization);
  if (token === undefined) return { ticket: false, failure: 'No ticket' };
  const eq = token.lastIndexOf('=');
  if (eq < 0) return { ticket: false, failure: generic('no tokenid specified') };
  const tokenid = token.slice(0, eq);
  const secret = token.slice(eq + 1);
  const m = /^([^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+)!([A-Za-z][A-Za-z0-9.\-_]+)$/.exec(tokenid);
  if (!m?.[1] || !m[2]) return { ticket: false, failure: generic(`'${tokenid}' is not a valid token ID`) };
  const user = access.users[m[1]];
  if (!user) return { ticket: false, failure: generic(`no such user ('${m[1]}')`) };
  if (!user.enable) return { ticket: false, failure: generic(`user '${m[1]}' is disabled`) };
  if (user.expire && user.expire < core.now()) return { ticket: false, failure: generic('account expired') };
  const info = user.tokens[m[2]];
  if (!info) return { ticket: false, failure: generic(`no such token '${m[2]}' for user '${m[1]}'`) };
  if (info.expire && info.expire < core.now()) return { ticket: false, failure: generic(`token '${m[2]}' access expired`) };
  if (info.secret !== secret) return { ticket: false, failure: generic('invalid token value!') };
  return { ticket: false, auth: parseAuthId(tokenid) };
}

const NO_AUTH = new Set(['GET /access/domains', 'GET /access/ticket', 'POST /access/ticket']);

/** Serves one request the way pve-proxy/pvedaemon do. */
export async function handleRequest(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const arrived = Date.now();
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://sim');
  let statKey = `${method} <unmatched>`;
  const finish = (reply: Reply): void => {
    send(req, res, reply);
    ctx.stats.record(statKey, reply.status, performance.now() - started);
  };
  const delayed401 = async (reply: Reply): Promise<void> => {
    const wait = arrived + ctx.authFailureDelayMs - Date.now();
    if (wait > 0) await sleep(wait);
    finish(reply);
  };

  if (url.pathname.startsWith('/_sim/') || url.pathname === '/_sim') {
    const body = (await readBody(req)).toString('utf8');
    await ctx.control(req, res, url.pathname, body);
    return;
  }
  const { traits } = ctx;
  if (!/^\/api2\/json(\/|$)/.test(url.pathname)) {
    await readBody(req);
    finish(rawError(traits, 501, 'no such uri'));
    return;
  }
  let rel: string;
  try {
    rel = decodeURIComponent(url.pathname.slice('/api2/json'.length)) || '/';
  } catch {
    rel = url.pathname.slice('/api2/json'.length) || '/';
  }
  rel = rel.replace(/\/+$/, '') || '/';
  if (!['GET', 'POST', 'PUT', 'DELETE'].includes(method)) {
    await readBody(req);
    finish(rawError(traits, 501, `method '${method}' not available`));
    return;
  }
  const length = Number(req.headers['content-length'] ?? 0);
  if (req.headers['transfer-encoding'] && /chunked/i.test(String(req.headers['transfer-encoding']))) {
    req.resume();
    finish(rawError(traits, 501, 'chunked transfer encoding not supported'));
    return;
  }
  if (length > 0 && (method === 'GET' || method === 'DELETE')) {
    req.resume();
    finish(rawError(traits, 501, `Unexpected content for method '${method}'`));
    return;
  }
  if (length > MAX_BODY) {
    req.resume();
    finish(rawError(traits, 501, 'for data too large'));
    return;
  }
  const bodyBuf = await readBody(req);
  const ctype = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (bodyBuf.length > 0 && ctype !== '' && ctype !== 'application/x-www-form-urlencoded' && ctype !== 'application/json') {
    finish(rawError(traits, 506, `upload 'Content-Type '${req.headers['content-type']}' not implemented`));
    return;
  }

  const match = matchRoute(method, rel);
  if (match.route) statKey = match.route.key;

  const fault = ctx.faults.forRequest(method, match.route?.key, rel);
  if (fault?.kind === 'latency') await sleep(fault.latencyMs);
  if (fault?.kind === 'timeout') {
    if (fault.latencyMs !== undefined) await sleep(fault.latencyMs);
    else await new Promise<void>((r) => res.on('close', () => r()));
    ctx.stats.record(statKey, 0, performance.now() - started);
    req.socket.destroy();
    return;
  }
  if (fault?.kind === 'error') {
    const msg = fault.message.endsWith('\n') ? fault.message : `${fault.message}\n`;
    finish(fault.status === 401 || fault.status >= 595 ? rawError(traits, fault.status, msg) : errorReply(traits, fault.status, msg));
    return;
  }

  const needsAuth = !NO_AUTH.has(`${method} ${rel}`);
  const tokenHeader = tokenFromAuthorization(req.headers.authorization) !== undefined && !cookieValue(req.headers.cookie, 'PVEAuthCookie');
  let auth: AuthId = { id: '', user: '' };
  if (needsAuth) {
    const result = authenticate(ctx, req, method);
    if (!result.auth) {
      await delayed401({ status: 401, reason: result.failure ?? 'No ticket' });
      return;
    }
    auth = result.auth;
  }
  if (!match.route) {
    const msg = `Method '${method} ${rel}' not implemented`;
    finish(errorReply(traits, 501, msg));
    return;
  }
  const { route, pathParams } = match;
  try {
    if ((auth.token !== undefined || (!needsAuth && tokenHeader)) && !route.schema.allowtoken)
      throw new ApiError(403, `Permission check failed (URI '${rel}' not available with API token, need proper ticket.\n)`);
    let params: Record<string, unknown> = {};
    if (bodyBuf.length > 0) {
      if (ctype === 'application/json') {
        try {
          const parsed = JSON.parse(bodyBuf.toString('utf8')) as unknown;
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) params = parsed as Record<string, unknown>;
        } catch {
          throw new ApiError(400, 'Parameter verification failed.\n', { _root: 'unable to parse JSON body' });
        }
      } else {
        params = decodeForm(bodyBuf.toString('utf8'));
      }
    }
    Object.assign(params, decodeForm(url.search.replace(/^\?/, '')));
    for (const [k, v] of Object.entries(pathParams)) {
      if (params[k] !== undefined && String(params[k]) !== v)
        throw new ApiError(400, 'Parameter verification failed.\n', { [k]: 'duplicate parameter (already defined in URI) with conflicting values!' });
      params[k] = v;
    }
    const perms = route.schema.permissions;
    if (perms?.check) evaluateCheck(ctx.core.perm, auth, perms.check, params);
    const node = pathParams.node;
    if (node !== undefined && route.schema.proxyto === 'node') {
      const n = ctx.core.node(node);
      if (!n) throw new ApiError(500, `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known\n`);
      if (!n.online) {
        finish(rawError(traits, 595, 'No route to host'));
        return;
      }
    }
    params = normaliseParams(route.schema.parameters, params);
    const errors = validateParams(route.schema.parameters, params);
    if (Object.keys(errors).length > 0) throw new ApiError(400, 'Parameter verification failed.\n', errors);
    if (node !== undefined && !route.schema.proxyto && !ctx.core.node(node))
      throw new ApiError(500, `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known\n`);
    const hctx: HandlerCtx = { core: ctx.core, auth, params, method, path: rel };
    const data = await route.handler(hctx);
    finish(jsonReply(data, hctx.total));
  } catch (err) {
    if (err instanceof LoginFailure) {
      await delayed401(errorReply(traits, 401, err.message));
      return;
    }
    if (err instanceof ApiError) {
      finish(errorReply(traits, err.status, err.message, err.errors));
      return;
    }
    const text = err instanceof Error ? err.message : String(err);
    finish(errorReply(traits, 500, text.endsWith('\n') ? text : `${text}\n`));
  }
}
