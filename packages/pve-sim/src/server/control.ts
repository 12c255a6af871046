import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimCore } from '../model/core.js';
import type { CallStats, FaultRule, FaultSet } from './faults.js';

/**
 * The sim's own control API under /_sim (not part of PVE): plain JSON, no
 * auth (the server binds to loopback by default).
 *   GET    /_sim/stats            per-endpoint counts and timings
 *   DELETE /_sim/stats            reset them
 *   GET    /_sim/storage-locks    the storage lock model's counters (DELETE resets them)
 *   GET    /_sim/faults           list fault rules
 *   POST   /_sim/faults           add a rule (JSON FaultRule) → {id}
 *   DELETE /_sim/faults[/<id>]    remove one or all rules
 *   GET    /_sim/state            the whole state
 *   POST   /_sim/idle             wait until no task runs
 *   PUT    /_sim/guests/<vmid>/agent-ips  {"ips":["10.0.0.5/24"]}
 */
export async function handleControl(core: SimCore, faults: FaultSet, stats: CallStats, req: IncomingMessage, res: ServerResponse, path: string, body: string): Promise<void> {
  const method = req.method ?? 'GET';
  const reply = (status: number, data: unknown): void => {
    const text = JSON.stringify(data);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
    res.end(text);
  };
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
  if (route === 'GET /state') return reply(200, core.state);
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
