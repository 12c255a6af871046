import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'l4-workload', include: ['test/**/*.test.ts'], passWithNoTests: true },
});
