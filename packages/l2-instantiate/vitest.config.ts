import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'l2-instantiate', include: ['test/**/*.test.ts'], passWithNoTests: true },
});
