import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimCore } from '../model/core.js';
import type { SimStateData } from '../model/types.js';
import type { CallStats, FaultRule, FaultSet } from './faults.js';

/** What the control API works on; `token` undefined: the API is off. */
export interface ControlContext {
  core: SimCore;
  faults: FaultSet;
  stats: CallStats;
  token: string | undefined;
}

/** What stands in for a secret in what the control API returns. */
export const REDACTED = '(redacted)';

/**
 * The sim's own control API under /_sim (not part of PVE): plain JSON. Off unless the sim was started
 * with it (`control`): then every path answers 404. On, every request needs
 * `Authorization: Bearer <token>` with the control API's own token (a PVE API token or ticket is not
 * one), else 401. No answer holds a secret of the simulated cluster: token secrets, passwords and the
 * ticket key read `(redacted)` in the state.
 *   GET    /_sim/stats            per-endpoint counts and timings
 *   DELETE /_sim/stats            reset them
 *   GET    /_sim/storage-locks    the storage lock model's counters (DELETE resets them)
 *   GET    /_sim/faults           list fault rules
 *   POST   /_sim/faults           add a rule (JSON FaultRule) → {id}
 *   DELETE /_sim/faults[/<id>]    remove one or all rules
 *   GET    /_sim/state            the whole state, secrets redacted
 *   POST   /_sim/idle             wait until no task runs
 *   PUT    /_sim/guests/<vmid>/agent-ips  {"ips":["10.0.0.5/24"]}
 */
export async function handleControl(ctl: ControlContext, req: IncomingMessage, res: ServerResponse, path: string, body: string): Promise<void> {
  const { core, faults, stats } = ctl;
  const method = req.method ?? 'GET';
  const reply = (status: number, data: unknown, headers: Record<string, string> = {}): void => {
    const text = scrub(JSON.stringify(data), core.state);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  };
  if (ctl.token === undefined) return reply(404, { error: 'the control API is off: start the sim with it (startSim({ control: true }), pve-sim --control)' });
  if (!authorized(req.headers.authorization, ctl.token))
    return reply(401, { error: 'the control API needs its own token: Authorization: Bearer <token>' }, { 'WWW-Authenticate': 'Bearer realm="pve-sim control"' });
  let input: unknown = undefined;
  if (body) {
    try {
      input = JSON.parse(body);
    } catch {
      reply(400, { error: 'body must be JSON' });
      return;
    }
  }
  const parts = path.split('/').filter(Boolean).slice(1);
  const route = `${method} /${parts.join('/')}`;
  if (route === 'GET /stats') return reply(200, stats.snapshot());
  if (route === 'DELETE /stats') {
    stats.reset();
    return reply(200, null);
  }
  if (route === 'GET /storage-locks') return reply(200, { options: core.storageLocks.options ?? null, ...core.storageLocks.snapshot() });
  if (route === 'DELETE /storage-locks') {
    core.storageLocks.reset();
    return reply(200, null);
  }
  if (route === 'GET /faults') return reply(200, faults.list());
  if (route === 'POST /faults') {
    const rule = input as FaultRule | undefined;
    if (!rule || typeof rule !== 'object' || !('kind' in rule)) return reply(400, { error: 'a fault rule with `kind` is required' });
    return reply(200, { id: faults.add(rule) });
  }
  if (route === 'DELETE /faults') {
    faults.clear();
    return reply(200, null);
  }
  if (method === 'DELETE' && parts[0] === 'faults' && parts[1]) return reply(faults.remove(parts[1]) ? 200 : 404, null);
  if (route === 'GET /state') return reply(200, redactState(core.state));
  if (route === 'POST /idle') {
    await core.tasks.idle();
    return reply(200, null);
  }
  if (method === 'PUT' && parts[0] === 'guests' && parts[2] === 'agent-ips') {
    const g = core.guest(Number(parts[1]));
    if (!g) return reply(404, { error: 'no such guest' });
    const ips = (input as { ips?: unknown } | undefined)?.ips;
    if (!Array.isArray(ips)) return reply(400, { error: '`ips` must be an array' });
    g.agentIps = ips.map(String);
    core.changed();
    return reply(200, null);
  }
  reply(404, { error: `unknown control route ${route}` });
}

/** Whether `header` is `Bearer <token>`; compared in constant time. */
function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(header ?? '');
  if (!m?.[1]) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

/** A copy of the state whose token secrets, passwords and ticket key read `(redacted)`. Pure. */
export function redactState(state: SimStateData): SimStateData {
  const copy = structuredClone(state);
  for (const user of Object.values(copy.access.users)) {
    if (user.password !== undefined) user.password = REDACTED;
    for (const token of Object.values(user.tokens)) token.secret = REDACTED;
  }
  copy.access.ticketKey = REDACTED;
  return copy;
}

/**
 * Every token secret of 8 characters or more taken out of a JSON reply, wherever it is (a fault
 * rule's message, a task log): a guard beside redactState. Shorter ones would match unrelated text.
 */
function scrub(json: string, state: SimStateData): string {
  let out = json;
  for (const user of Object.values(state.access.users))
    for (const token of Object.values(user.tokens)) {
      const escaped = JSON.stringify(token.secret).slice(1, -1);
      if (escaped.length >= 8) out = out.replaceAll(escaped, REDACTED);
    }
  return out;
}
