import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'ops',
    include: ['test/**/*.test.ts'],
    // The tool and e2e tiers run from the root configs (vitest.tool.config.ts, vitest.e2e.config.ts).
    exclude: ['test/**/*.tool.test.ts', 'test/**/*.e2e.test.ts', '**/node_modules/**'],
    passWithNoTests: true,
  },
});
