import type { CommandDef } from '../command.js';

const handlers = () => import('../handlers/validate.js');

export const validateCommand: CommandDef = {
  name: 'validate',
  summary: 'check the lab files against the model and each other (reads local files only)',
  description:
    'Reads lab.yaml, images/*.yaml, personas/*.yaml and the stacks/ folders, and reports every problem at once as\n' +
    'FILE:LINE:COL FIELD: MESSAGE. Nothing is contacted or changed.\n' +
    'The original lab\'s environment variables fill what lab.yaml leaves out (lab.yaml wins where it sets a value):\n' +
    'PVE_ACCESS_HOST (proxmox.endpoint), PM_TOKEN_ID, PM_TOKEN_SECRET (tokenSecret: env:PM_TOKEN_SECRET), PVE_NODE (nodes),\n' +
    'PVE_STORAGE_VM, PVE_STORAGE_ISO, PVE_BRIDGE (defaults), L0_MIN_FREE_GIB_ISO, L0_MIN_FREE_PCT_VM (runway); each one\n' +
    'used is named on a line of its own (in --json: envFallbacks).',
  examples: [
    { command: 'ahl validate', description: 'validate the lab that holds the current directory' },
    { command: 'ahl validate --dir ~/lab', description: 'validate another lab' },
    { command: 'ahl validate --json | jq -r \'.errors[] | "\\(.file):\\(.line) \\(.message)"\'', description: 'machine-readable problems' },
  ],
  run: async (ctx) => (await handlers()).validate(ctx),
};
