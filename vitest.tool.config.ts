import { defineConfig } from 'vitest/config';
import { GUEST_TOOL_FILES } from './scripts/guest-files.mjs';

/**
 * The tool tier: real tools (`*.tool.test.ts`). The files that boot testlab guests run one at a time;
 * the others (Terraform and pve-sim, ansible-lint, templates) run one at a time beside them.
 */
const tier = { testTimeout: 45 * 60_000, hookTimeout: 45 * 60_000, fileParallelism: false };
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'tool-guests', include: GUEST_TOOL_FILES, ...tier } },
      { test: { name: 'tool-engines', include: ['packages/*/test/**/*.tool.test.ts'], exclude: [...GUEST_TOOL_FILES, '**/node_modules/**'], ...tier } },
    ],
  },
});
