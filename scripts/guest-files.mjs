// The tool tier's files that boot testlab guests: they run one at a time (two sets of TCG guests at
// once would only slow each other), while the tier's other files (Terraform against pve-sim,
// ansible-lint, template rendering) run beside them. Read by vitest.tool.config.ts and test-all.mjs.
export const GUEST_TOOL_FILES = ['packages/l3-system/test/converge.tool.test.ts', 'packages/l4-workload/test/workload.tool.test.ts'];
