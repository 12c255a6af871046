#!/usr/bin/env node
// Writes docs/errors.md from the error catalogue (packages/core/src/errors.ts), for review with
// `git diff` before committing. The test (test/errors-doc.test.ts) fails while the page is stale.
// Usage: pnpm --filter @ahl/core errors:doc   (builds core first, then runs this)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS_DOC, renderErrorsDoc } from '../dist/index.js';

const file = join(fileURLToPath(new URL('../../../', import.meta.url)), ERRORS_DOC);
const text = renderErrorsDoc();
let old = '';
try {
  old = readFileSync(file, 'utf8');
} catch {
  // Not written yet.
}
if (old === text) {
  process.stdout.write(`${ERRORS_DOC} is up to date\n`);
} else {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  process.stdout.write(`wrote ${ERRORS_DOC}\n`);
}
