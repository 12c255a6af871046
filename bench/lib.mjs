// Shared helpers for the benchmark scripts: medians, a printed table, and a JSON record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return Math.round((s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) * 10) / 10;
}

export function table(name, rows) {
  const lines = [`\n${name}`, '| measure | median (ms) | target (ms) | met |', '|---|---:|---:|:-:|'];
  for (const r of rows) lines.push(`| ${r.measure} | ${r.median_ms} | ${r.target_ms ?? ''} | ${r.target_ms === undefined ? '' : r.median_ms <= r.target_ms ? 'yes' : 'MISSED'} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function record(name, data) {
  mkdirSync(RESULTS, { recursive: true });
  const machine = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown' };
  writeFileSync(join(RESULTS, `${name}.json`), `${JSON.stringify({ bench: name, date: new Date().toISOString(), machine, ...data }, null, 2)}\n`);
}
