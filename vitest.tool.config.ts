import { defineConfig } from 'vitest/config';

/** The tool tier: real ansible-playbook against real testlab guests (`*.tool.test.ts`), one file at a time. */
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.tool.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 45 * 60_000,
    hookTimeout: 45 * 60_000,
    fileParallelism: false,
  },
});
