#!/usr/bin/env node
// bench/validate: validation of a 200-persona, 1,000-host lab, and CLI start-up.
// Targets (issue "Foundation"): validate < 1 s wall, `ahl --version` < 150 ms.
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

function wall(args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`ahl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const dir = mkdtempSync(join(tmpdir(), 'ahl-bench-validate-'));
try {
  const size = generateLab(dir, { personas: 200, hostsPerPersona: 5 });
  const { loadLab } = await import(join(ROOT, 'packages/core/dist/index.js'));
  const check = await loadLab(dir, { cache: false });
  if (check.errors.length) throw new Error(`generated lab is invalid: ${check.errors[0].message}`);

  const inProcess = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    await loadLab(dir, { cache: false });
    inProcess.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const cli = Array.from({ length: RUNS }, () => wall(['validate', '--dir', dir]));
  const version = Array.from({ length: RUNS * 2 }, () => wall(['--version']));
  const help = Array.from({ length: RUNS }, () => wall(['validate', '--help']));

  const rows = [
    { measure: `loadLab, ${size.personas} personas / ${size.hosts} hosts (in process)`, median_ms: median(inProcess), target_ms: 1000 },
    { measure: `ahl validate, same lab (wall, new process)`, median_ms: median(cli), target_ms: 1000 },
    { measure: 'ahl --version (wall, cold process)', median_ms: median(version), target_ms: 150 },
    { measure: 'ahl validate --help (wall, cold process)', median_ms: median(help), target_ms: 150 },
  ];
  table('validate', rows);
  record('validate', { runs: RUNS, lab: size, rows });
  process.exitCode = rows.every((r) => r.median_ms <= r.target_ms) ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
