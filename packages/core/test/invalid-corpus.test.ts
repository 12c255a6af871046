import { describe, expect, it } from 'vitest';
import { caseNames, expectedLines, runCase } from './corpus.js';

// Only compares: `pnpm --filter @ahl/core corpus:update` rewrites the expected.txt files, for review.
describe('bad input corpus', () => {
  const names = caseNames();

  it('holds at least 30 cases', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
  });

  it.each(names)('%s: reports exactly the expected problems', async (name) => {
    const { result, lines } = await runCase(name);
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
