import type { CommandDef } from '../command.js';

const handlers = () => import('../handlers/schema.js');

export const schemaCommand: CommandDef = {
  name: 'schema',
  summary: 'print or write the JSON Schemas of lab.yaml, lab.local.yaml, images and personas, and of --json outputs',
  description:
    'The schemas are generated from the model ahl validates with. Editors with the YAML language server use them\n' +
    'through the `# yaml-language-server: $schema=…` line at the top of each file. `ahl schema status`, `drift`,\n' +
    '`up` (also `ahl plan`\'s) and `rebuild` give the schemas of those commands\' --json output, for scripts that read them.',
  positionals: [{ name: 'KIND', optional: true, description: 'lab, image, persona or local; status, drift, up or rebuild for an output (default: every lab file kind, as one JSON object keyed by file name)' }],
  options: [
    { name: 'write', type: 'boolean', description: 'write the files into the lab\'s schemas/ folder (or --out) instead of printing' },
    { name: 'out', type: 'string', value: 'DIR', description: 'folder for --write and --check (default: <lab>/schemas)' },
    { name: 'check', type: 'boolean', description: 'exit 1 when the files on disk differ from what this version generates' },
  ],
  examples: [
    { command: 'ahl schema persona', description: 'print the persona schema' },
    { command: 'ahl schema --write', description: 'refresh schemas/*.schema.json in the lab' },
    { command: 'ahl schema --check', description: 'in CI: fail when the committed schemas are stale' },
    { command: 'ahl schema status > status.output.schema.json', description: 'the schema of `ahl status --json`, to validate it in a script' },
  ],
  run: async (ctx) => (await handlers()).schema(ctx),
};
