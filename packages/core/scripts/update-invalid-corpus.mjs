#!/usr/bin/env node
// Rewrites each case's expected.txt in test/fixtures/invalid/ from what the built core reports now,
// for review (`git diff` them before committing). The test (test/invalid-corpus.test.ts) only compares.
// Usage: pnpm --filter @ahl/core corpus:update   (builds core first, then runs this)
// Each case is laid over test/fixtures/base exactly as test/corpus.ts runCase() does.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, loadLab } from '../dist/index.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/', import.meta.url));
const CASES_DIR = join(FIXTURES, 'invalid');

let changed = 0;
const names = readdirSync(CASES_DIR).sort();
for (const name of names) {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-case-'));
  let lines;
  try {
    cpSync(join(FIXTURES, 'base'), dir, { recursive: true });
    cpSync(join(CASES_DIR, name), dir, { recursive: true, filter: (src) => !src.endsWith('expected.txt') });
    const result = await loadLab(dir);
    if (result.errors.length === 0) process.stderr.write(`warning: ${name} is valid now: a case of the invalid corpus must report an error\n`);
    lines = [...result.errors.map(formatDiagnostic), ...result.warnings.map((d) => `${formatDiagnostic(d)} [warning]`)];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const file = join(CASES_DIR, name, 'expected.txt');
  const text = `${lines.join('\n')}\n`;
  if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
  writeFileSync(file, text);
  changed++;
  process.stdout.write(`updated ${name}/expected.txt\n`);
}
process.stdout.write(`${changed} of ${names.length} cases updated${changed ? '; review them with git diff packages/core/test/fixtures/invalid' : ''}\n`);
