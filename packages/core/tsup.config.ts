import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

// zod is bundled in: its ~95 ESM files cost every command more to resolve and load one by one than
// their code costs to run (only core imports zod at run time; it stays a dependency for the types).
export default defineConfig({ ...packageBuild(), noExternal: ['zod'] });
