import type { CommandDef } from '../command.js';

const handlers = () => import('../handlers/runway.js');

export const runwayCommand: CommandDef = {
  name: 'runway',
  summary: 'L0: read-only checks that Proxmox is ready for the lab (API, TLS, token, privileges, nodes, bridges, storage, templates)',
  description:
    'Checks the endpoint and its certificate, the token and its privileges for every layer, each node, bridge and storage the\n' +
    'lab uses (content types, free space against lab.yaml runway thresholds), the promoted templates against their manifests,\n' +
    'and conflicts with guests ahl does not manage. Changes nothing. Writes the report to artifacts/runway.json.\n' +
    'Exit status: 0 nothing failed (warnings never fail), 1 a check failed, 2 the checks could not run.',
  options: [{ name: 'artifact', type: 'string', value: 'PATH', description: 'where to write the JSON report (default: artifacts/runway.json in the lab)' }],
  examples: [
    { command: 'ahl runway', description: 'check the runway before ahl up' },
    { command: 'ahl runway --json | jq \'.checks[] | select(.status != "PASS")\'', description: 'only what needs attention' },
  ],
  run: async (ctx) => (await handlers()).runway(ctx),
};
