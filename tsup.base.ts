import type { Options } from 'tsup';

/** The build every package shares: ESM for Node 20 with declarations; `entry` adds bins to src/index.ts. */
export function packageBuild(extraEntries: string[] = []): Options {
  return {
    entry: ['src/index.ts', ...extraEntries],
    format: ['esm'],
    target: 'node20',
    dts: { entry: 'src/index.ts' },
    clean: true,
    sourcemap: true,
  };
}
