import { defineConfig } from 'vitest/config';

/** The tool tier: real terraform/tofu and ansible-playbook (`*.tool.test.ts`), one file at a time. */
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.tool.test.ts'],
    testTimeout: 45 * 60_000,
    hookTimeout: 45 * 60_000,
    fileParallelism: false,
  },
});
