import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/bin.ts', 'src/lab-daemon.ts'],
  format: ['esm'],
  target: 'node20',
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  // Commands load @ahl/* lazily, so `ahl --version` does not pay for zod and yaml.
  splitting: true,
});
