import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'l3-system', include: ['test/**/*.test.ts'], passWithNoTests: true },
});
