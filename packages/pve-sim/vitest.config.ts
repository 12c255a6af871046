import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'pve-sim',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
