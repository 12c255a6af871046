import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'l1-image', include: ['test/**/*.test.ts'], passWithNoTests: true },
});
