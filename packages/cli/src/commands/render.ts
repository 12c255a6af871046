import type { CommandDef } from '../command.js';

const handlers = () => import('../handlers/render.js');

export const renderCommand: CommandDef = {
  name: 'render',
  summary: 'write what every layer would apply, without touching any API, secret or host',
  description:
    'Renders the lab from the repository and its recorded template manifests, as each layer hands it to its engine:\n' +
    'l2/main.tf.json (the Terraform module), l1/seed/HOST/ (a bare-metal host\'s NoCloud seed), l3/ and l4/ (the Ansible\n' +
    'inventories and host_vars) and l4/stacks/ (the stack files as copied). Stack secrets are never resolved: the\n' +
    'workload env, which holds them, is written only on the host. Without --out the files are printed one after\n' +
    'another, each after a "--- PATH" line, like `helm template`. Safe on an untrusted pull request: it needs no secret.',
  options: [
    {
      name: 'out',
      type: 'string',
      value: 'DIR',
      description: 'write the files into DIR instead of printing them: a new or empty folder, or one an earlier render wrote (it is replaced)',
    },
  ],
  examples: [
    { command: 'ahl render', description: 'print everything a change would run' },
    { command: 'ahl render --out /tmp/before && git switch pr && ahl render --out /tmp/after && diff -r /tmp/before /tmp/after', description: 'review what a pull request changes' },
    { command: 'ahl render --json | jq -r \'.files | keys[]\'', description: 'list the rendered files' },
  ],
  run: async (ctx) => (await handlers()).render(ctx),
};
