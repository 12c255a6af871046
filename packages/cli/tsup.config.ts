import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// Commands load @ahl/* lazily (code splitting), so `ahl --version` does not pay for zod and yaml.
export default defineConfig({ ...packageBuild(['src/bin.ts', 'src/lab-daemon.ts']), splitting: true });
