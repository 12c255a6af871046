import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// Each command file loads its handler (and through it @ahl/*) only when it runs (code splitting), so
// `ahl --version` and `--help` do not pay for zod, yaml and the layers.
export default defineConfig({ ...packageBuild(['src/bin.ts', 'src/lab-daemon.ts']), splitting: true });
