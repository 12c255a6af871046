#!/usr/bin/env node
// bench/validate: validation of a 200-persona, 1,000-host lab, and CLI start-up; then validation of
// 20,000 hosts in two shapes (200 personas of 100 hosts, and one persona of 20,000), which is where
// time that grows faster than the lab shows (issue #22: 147 s before).
// Targets: validate < 1 s wall at 1,000 hosts and ≤ 5 s at 20,000, `ahl --version` < 150 ms.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateLab } from './generate.mjs';
import { median, record, table } from '../lib.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
/** Runs of each 20,000-host measure (each takes seconds). */
const LARGE_RUNS = Number(process.env.BENCH_LARGE_RUNS ?? 3);
/** BENCH_LARGE=0 leaves the 20,000-host labs out. */
const LARGE = process.env.BENCH_LARGE !== '0';

/**
 * The same loadLab measures on core as it was before issue #22's fix (commit 3bc1d8b, this generator,
 * the same 2-vCPU machine, medians of 3, in process), printed beside the figures of this run.
 */
const BEFORE = {
  '200 personas / 20000 hosts': { wall_ms: 2775, cpu_ms: 3241 },
  '1 persona / 20000 hosts': { wall_ms: 47236, cpu_ms: 38522 },
};

function wall(args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`ahl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Wall and CPU time of one in-process loadLab (CPU time is the steadier figure on a shared machine). */
async function timed(loadLab, dir) {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await loadLab(dir, { cache: false });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  if (r.errors.length) throw new Error(`generated lab is invalid: ${r.errors[0].message}`);
  return { ms, cpu: (c.user + c.system) / 1000 };
}

const { loadLab } = await import(join(ROOT, 'packages/core/dist/index.js'));
const rows = [];
const labs = [];

const dir = mkdtempSync(join(tmpdir(), 'ahl-bench-validate-'));
try {
  const size = generateLab(dir, { personas: 200, hostsPerPersona: 5 });
  labs.push(size);
  await timed(loadLab, dir);
  const inProcess = [];
  for (let i = 0; i < RUNS; i++) inProcess.push((await timed(loadLab, dir)).ms);
  const cli = Array.from({ length: RUNS }, () => wall(['validate', '--dir', dir]));
  const version = Array.from({ length: RUNS * 2 }, () => wall(['--version']));
  const help = Array.from({ length: RUNS }, () => wall(['validate', '--help']));
  rows.push(
    { measure: `loadLab, ${size.personas} personas / ${size.hosts} hosts (in process)`, median_ms: median(inProcess), target_ms: 1000 },
    { measure: `ahl validate, same lab (wall, new process)`, median_ms: median(cli), target_ms: 1000 },
    { measure: 'ahl --version (wall, cold process)', median_ms: median(version), target_ms: 150 },
    { measure: 'ahl validate --help (wall, cold process)', median_ms: median(help), target_ms: 150 },
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const comparison = [];
if (LARGE) {
  for (const shape of [
    { personas: 200, hostsPerPersona: 100 },
    { personas: 1, hostsPerPersona: 20000 },
  ]) {
    const big = mkdtempSync(join(tmpdir(), 'ahl-bench-validate-large-'));
    try {
      const size = generateLab(big, shape);
      labs.push(size);
      const name = `${size.personas} persona${size.personas === 1 ? '' : 's'} / ${size.hosts} hosts`;
      const runs = [];
      for (let i = 0; i < LARGE_RUNS; i++) runs.push(await timed(loadLab, big));
      const cli = Array.from({ length: LARGE_RUNS }, () => wall(['validate', '--dir', big]));
      const now = { wall_ms: median(runs.map((r) => r.ms)), cpu_ms: median(runs.map((r) => r.cpu)) };
      rows.push(
        { measure: `loadLab, ${name} (in process)`, median_ms: now.wall_ms, target_ms: 5000 },
        { measure: `loadLab, same lab: CPU time`, median_ms: now.cpu_ms },
        { measure: `ahl validate, same lab (wall, new process)`, median_ms: median(cli), target_ms: 5000 },
      );
      comparison.push({ lab: name, before: BEFORE[name], now });
    } finally {
      rmSync(big, { recursive: true, force: true });
    }
  }
}

table('validate', rows);
if (comparison.length) {
  const lines = ['\nloadLab at 20,000 hosts, before issue #22 and now', '| lab | before wall (ms) | now wall (ms) | before CPU (ms) | now CPU (ms) |', '|---|---:|---:|---:|---:|'];
  for (const c of comparison) lines.push(`| ${c.lab} | ${c.before?.wall_ms ?? ''} | ${c.now.wall_ms} | ${c.before?.cpu_ms ?? ''} | ${c.now.cpu_ms} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
record('validate', { runs: RUNS, largeRuns: LARGE_RUNS, labs, rows, comparison });
process.exitCode = rows.every((r) => r.target_ms === undefined || r.median_ms <= r.target_ms) ? 0 : 1;
