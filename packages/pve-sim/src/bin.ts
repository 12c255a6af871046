#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startSim } from './sim.js';

const USAGE = `usage: pve-sim [--config seed.yaml] [--port 8006] [--host 127.0.0.1] [--http]
              [--state-dir DIR] [--pve-version 9.1.1] [--task-ms 200]
              [--auth-delay-ms 3000] [--stats-lag-ms 10000]
              [--storage-lock HOLD_MS[:TIMEOUT_MS]] [--control]

Serves a simulated Proxmox VE API at https://HOST:PORT/api2/json (self-signed
certificate; its SHA-256 fingerprint is printed).

--control  also serves the control API at /_sim (faults, stats, state), which
           needs "Authorization: Bearer TOKEN": PVE_SIM_CONTROL_TOKEN from the
           environment, else a random token, which is printed.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p', default: '8006' },
      host: { type: 'string', default: '127.0.0.1' },
      http: { type: 'boolean', default: false },
      'state-dir': { type: 'string' },
      'pve-version': { type: 'string' },
      'task-ms': { type: 'string' },
      'auth-delay-ms': { type: 'string' },
      'stats-lag-ms': { type: 'string' },
      'storage-lock': { type: 'string' },
      control: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
    return n;
  };
  let storageLock: { holdMs: number; timeoutMs?: number } | undefined;
  if (values['storage-lock'] !== undefined) {
    const [hold, timeout] = values['storage-lock'].split(':');
    storageLock = { holdMs: num(hold, 'storage-lock')!, ...(timeout !== undefined ? { timeoutMs: num(timeout, 'storage-lock')! } : {}) };
  }
  const sim = await startSim({
    ...(values.config ? { seedFile: values.config } : {}),
    port: num(values.port, 'port') ?? 8006,
    host: values.host ?? '127.0.0.1',
    https: !values.http,
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
    ...(values['pve-version'] ? { pveVersion: values['pve-version'] } : {}),
    ...(values['task-ms'] ? { taskDurationMs: num(values['task-ms'], 'task-ms')! } : {}),
    ...(values['auth-delay-ms'] ? { authFailureDelayMs: num(values['auth-delay-ms'], 'auth-delay-ms')! } : {}),
    ...(values['stats-lag-ms'] ? { statsLagMs: num(values['stats-lag-ms'], 'stats-lag-ms')! } : {}),
    ...(storageLock ? { storageLock } : {}),
    // The token comes from the environment, not an argument: command lines are visible to every local user.
    ...(values.control ? { control: process.env.PVE_SIM_CONTROL_TOKEN ? { token: process.env.PVE_SIM_CONTROL_TOKEN } : true } : {}),
  });
  const lines = [`pve-sim listening on ${sim.apiUrl}`];
  if (sim.fingerprint) lines.push(`fingerprint ${sim.fingerprint}`);
  for (const [id, secret] of Object.entries(sim.tokens)) lines.push(`token ${id}=${secret}`);
  if (sim.control) lines.push(`control ${sim.control.url} ${process.env.PVE_SIM_CONTROL_TOKEN ? 'bearer from PVE_SIM_CONTROL_TOKEN' : `bearer ${sim.control.token}`}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const shutdown = (): void => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`pve-sim: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
