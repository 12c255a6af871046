import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'l0-runway', include: ['test/**/*.test.ts'], passWithNoTests: true },
});
