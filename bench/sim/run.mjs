#!/usr/bin/env node
// bench/sim: pve-sim under load. Targets (issue "pve-sim", performance): with 500 guests,
// GET /cluster/resources answers in < 20 ms median, and the sim sustains >= 500 simple GETs
// per second on one core.
//
// The sim runs in a child process (server.mjs) pinned to CPU 0 with `taskset` when that exists
// and the machine has 2+ CPUs; this process, the client, moves itself to CPU 1. Requests are
// real HTTP/1.1 over keep-alive sockets (node:http Agent) with an API token, as ahl's clients send them.
// BENCH_PROFILE=1 writes a V8 CPU profile of the sim to bench/results/sim-server.cpuprofile.
import { spawn, spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { median, record, table } from '../lib.mjs';

const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const GUESTS = Number(process.env.BENCH_GUESTS ?? 500);
const RESOURCE_RUNS = Number(process.env.BENCH_RUNS ?? 200);
const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 3000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 2000);
const CONCURRENCY = 8;

const hasTaskset = cpus().length >= 2 && spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
const nodeArgs = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${RESULTS}`, '--cpu-prof-name=sim-server.cpuprofile'] : [];
const [cmd, args] = hasTaskset ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs, SERVER]] : [process.execPath, [...nodeArgs, SERVER]];
if (hasTaskset) spawnSync('taskset', ['-a', '-c', '-p', '1', String(process.pid)], { stdio: 'ignore' });
const pinning = hasTaskset ? 'sim pinned to CPU 0 (taskset -c 0), client on CPU 1' : 'not pinned (no taskset or a single CPU)';

// Other processes on the CPUs skew every number here; say so rather than report a quiet-machine result.
const loadAtStart = Math.round(loadavg()[0] * 100) / 100;
const busy = loadAtStart > 0.5 ? `; machine busy at start (1-min load ${loadAtStart} on ${cpus().length} CPUs): numbers are pessimistic` : '';

const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_GUESTS: String(GUESTS) } });
const exited = new Promise((resolve) => child.once('exit', resolve));
const info = await new Promise((resolve, reject) => {
  const rl = createInterface({ input: child.stdout });
  rl.once('line', (line) => resolve(JSON.parse(line)));
  child.once('exit', (code) => reject(new Error(`sim exited ${code} before it was ready`)));
});

const target = new URL(info.url);
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const auth = `PVEAPIToken=${info.token}=${info.secret}`;
const control = { Authorization: `Bearer ${info.controlToken}` };

/** One GET; resolves with the elapsed ms once the whole body is in (gunzipped size not needed). */
function get(path, headers = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request({ host: target.hostname, port: target.port, path, agent, headers: { Authorization: auth, ...headers } }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode} ${res.statusMessage}`));
        else resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Throughput as the mean time per request, so it fits the table (2 ms = 500 req/s). */
const perRequest = (t) => Math.round((1000 / t.rps) * 1000) / 1000;

const p95 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)] * 10) / 10;
};

try {
  const RES = '/api2/json/cluster/resources';
  const VERSION = '/api2/json/version';
  // Warm up JIT and sockets on both sides.
  for (let i = 0; i < 30; i++) await get(RES, { 'Accept-Encoding': 'gzip' });
  for (let i = 0; i < 300; i++) await get(VERSION);
  const reset = await fetch(`${info.control}/stats`, { method: 'DELETE', headers: control });
  if (!reset.ok) throw new Error(`DELETE /_sim/stats: ${reset.status}`);

  const measureResources = async (headers) => {
    const ms = [];
    let bytes = 0;
    for (let i = 0; i < RESOURCE_RUNS; i++) {
      const r = await get(RES, headers);
      ms.push(r.ms);
      bytes = r.bytes;
    }
    return { ms, bytes };
  };
  const gz = await measureResources({ 'Accept-Encoding': 'gzip' });
  const plain = await measureResources({});

  // Throughput: CONCURRENCY clients, each sending its next GET as soon as the previous answers.
  const throughput = async (ms, path) => {
    let done = 0;
    const t0 = performance.now();
    const tEnd = t0 + ms;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < tEnd) {
          await get(path(done));
          done++;
        }
      }),
    );
    return { requests: done, rps: Math.round(done / ((performance.now() - t0) / 1000)) };
  };
  // Guest 1000 + k lives on pve(k % 3 + 1) (server.mjs).
  const STATUS = (i) => {
    const k = i % (info.guests - 1);
    return `/api2/json/nodes/pve${(k % 3) + 1}/qemu/${1000 + k}/status/current`;
  };
  // Node's JIT needs a second or two of this load before it settles (the rate rises several-fold); warm both paths up.
  await throughput(WARMUP_MS, () => VERSION);
  await throughput(WARMUP_MS / 4, STATUS);
  const version = await throughput(THROUGHPUT_MS, () => VERSION);
  const status = await throughput(THROUGHPUT_MS, STATUS);

  const stats = await (await fetch(`${info.control}/stats`, { headers: control })).json();
  const calls = Object.values(stats).reduce((a, s) => a + s.count, 0);
  const errors = Object.values(stats).reduce((a, s) => a + s.errors, 0);
  const serverRes = stats['GET /cluster/resources'];

  const rows = [
    { measure: `GET /cluster/resources, ${info.guests} guests, gzip (${(gz.bytes / 1024).toFixed(0)} KiB), median`, median_ms: median(gz.ms), target_ms: 20 },
    { measure: `GET /cluster/resources, same, gzip, p95`, median_ms: p95(gz.ms) },
    { measure: `GET /cluster/resources, same, identity (${(plain.bytes / 1024).toFixed(0)} KiB), median`, median_ms: median(plain.ms), target_ms: 20 },
    { measure: `GET /cluster/resources, same, identity, p95`, median_ms: p95(plain.ms) },
    { measure: `GET /version, concurrency ${CONCURRENCY}, ${THROUGHPUT_MS / 1000} s: ms per request (${version.rps} req/s; target 500/s)`, median_ms: perRequest(version), target_ms: 2 },
    { measure: `GET /nodes/{node}/qemu/{vmid}/status/current, same: ms per request (${status.rps} req/s; target 500/s)`, median_ms: perRequest(status), target_ms: 2 },
  ];
  table('sim', rows);
  process.stdout.write(
    `${pinning}${busy}; ${RESOURCE_RUNS} sequential requests per /cluster/resources row; sim-side mean for /cluster/resources ${serverRes.meanMs} ms.\n` +
      `API calls served (sim stats, after warm-up): ${calls} (${errors} errors): ${Object.entries(stats).map(([k, s]) => `${k} ${s.count}`).join(', ')}\n`,
  );
  if (errors) process.stdout.write(`MISSED: ${errors} requests failed\n`);
  record('sim', { guests: info.guests, pinning, loadAtStart, resourceRuns: RESOURCE_RUNS, throughput: { concurrency: CONCURRENCY, warmupMs: WARMUP_MS, ms: THROUGHPUT_MS, version, statusCurrent: status }, apiCalls: calls, apiErrors: errors, rows });
  process.exitCode = rows.every((r) => r.target_ms === undefined || r.median_ms <= r.target_ms) && errors === 0 ? 0 : 1;
} finally {
  agent.destroy();
  child.kill('SIGTERM');
  await exited;
}
