import { defineConfig } from 'vitest/config';

/** The end-to-end tier: tests that boot real QEMU guests (`*.e2e.test.ts`), one file at a time. */
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.e2e.test.ts'],
    testTimeout: 45 * 60_000,
    hookTimeout: 45 * 60_000,
    fileParallelism: false,
  },
});
