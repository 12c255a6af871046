import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, loadLab, type ValidationResult } from '../src/index.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const CASES_DIR = join(FIXTURES, 'invalid');

export function caseNames(): string[] {
  return readdirSync(CASES_DIR).sort();
}

/**
 * The base lab with the case's files laid over it, validated from a temporary folder.
 * scripts/update-invalid-corpus.mjs does the same against the built core to rewrite expected.txt.
 */
export async function runCase(name: string): Promise<{ result: ValidationResult; lines: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-case-'));
  try {
    cpSync(join(FIXTURES, 'base'), dir, { recursive: true });
    cpSync(join(CASES_DIR, name), dir, { recursive: true, filter: (src) => !src.endsWith('expected.txt') });
    const result = await loadLab(dir);
    const lines = [...result.errors.map(formatDiagnostic), ...result.warnings.map((d) => `${formatDiagnostic(d)} [warning]`)];
    return { result, lines };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function expectedLines(name: string): string[] | undefined {
  const file = join(CASES_DIR, name, 'expected.txt');
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n') : undefined;
}
