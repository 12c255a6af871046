import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalogue, ERRORS_DOC, EXIT_STATUS, renderErrorsDoc } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('docs/errors.md', () => {
  it('is the page the catalogue renders (pnpm --filter @ahl/core errors:doc writes it)', () => {
    let committed = '';
    try {
      committed = readFileSync(join(REPO, ERRORS_DOC), 'utf8');
    } catch {
      // Missing: the comparison below says so.
    }
    expect(committed, `${ERRORS_DOC} is stale: run \`pnpm --filter @ahl/core errors:doc\` and commit it`).toBe(renderErrorsDoc());
  });

  it('lists every code with its title, kind and exit status, and a section of its own', () => {
    const page = renderErrorsDoc();
    for (const [code, e] of Object.entries(catalogue)) {
      expect(page).toContain(`| [\`${code}\`](#${code.toLowerCase()}) | ${e.title} | ${e.kind} | ${EXIT_STATUS[e.kind]} |`);
      expect(page).toContain(`\n## ${code}\n`);
    }
    expect(page).toContain('- Message: cannot write {path}: {reason}');
    expect(page).toContain('- Fix: export {NAME} (or run ahl under your secret manager');
  });
});
