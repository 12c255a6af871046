import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES_DIR, caseNames, expectedLines, runCase } from './corpus.js';

describe('bad input corpus', () => {
  const names = caseNames();

  it('holds at least 30 cases', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
  });

  it.each(names)('%s: reports exactly the expected problems', async (name) => {
    const { result, lines } = await runCase(name);
    // AHL_UPDATE_CORPUS=1 rewrites expected.txt; review the diff before committing it.
    if (process.env.AHL_UPDATE_CORPUS) writeFileSync(join(CASES_DIR, name, 'expected.txt'), `${lines.join('\n')}\n`);
    expect(result.lab).toBeUndefined();
    expect(result.errors.length).toBeGreaterThan(0);
    expect(lines).toEqual(expectedLines(name));
    // No stack traces, no zod internals leaking into messages.
    for (const l of lines) expect(l).not.toMatch(/\n|\bat .*\.(js|ts):\d+|ZodError|Invalid input/);
  });

  it('never echoes a literal secret written where a reference belongs', async () => {
    for (const name of ['literal-token-secret', 'workload-literal-secret']) {
      const { lines } = await runCase(name);
      expect(lines.join('\n')).not.toMatch(/s3cr3t|hunter2/);
    }
  });
});
