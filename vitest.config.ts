import { defineConfig } from 'vitest/config';

/**
 * The whole suite from the root: every package's tests plus the repository's own (layer rule,
 * scripts). `pnpm --filter <package> test` runs one package alone.
 */
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      { test: { name: 'repo', include: ['scripts/**/*.test.ts', 'bench/**/*.test.ts', 'test-support/**/*.test.ts'], testTimeout: 60_000 } },
    ],
  },
});
