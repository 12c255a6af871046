import { LAYER_OPTION, type CommandDef } from '../command.js';

const handlers = () => import('../handlers/ops.js');

/*
 * Operator commands across the layers. `status`, `drift`, `graph` and `diff` only read: they never
 * take the lab's lock and change nothing anywhere. `power` acts, with --approve, under the lock.
 */

export const statusCommand: CommandDef = {
  name: 'status',
  summary: 'the whole lab at a glance: each host\'s VM, template, last converge, last backup and drift flags',
  description:
    'One Proxmox API call (/cluster/resources) for any number of guests, plus what this machine remembers: template\n' +
    'records (is the VM\'s template the one its channel points at now?), the last `converge system|workload` and\n' +
    '`--check` of each host, and the last backup seen by `ahl backup`. Nothing is changed and no host is contacted;\n' +
    'run `ahl converge system --check` or `ahl backup --status` to refresh what it remembers.\n' +
    'DRIFT flags: missing (no VM), node (VM on another node), template (channel moved on), system/workload (the last\n' +
    'run failed or the last check found drift), backup (no good backup within the persona\'s maxAge).\n' +
    'Exit status: 0 (also when hosts need attention), 2 when the API could not be asked (the local part is still shown).',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: all)' }],
  examples: [
    { command: 'ahl status', description: 'every host of the lab' },
    { command: 'ahl status docker', description: 'only the hosts of the docker persona' },
    { command: 'ahl status --json | jq -r \'.hosts[] | select(.drift | length > 0) | .host\'', description: 'the hosts that need attention' },
  ],
  run: async (ctx) => (await handlers()).status(ctx),
};

export const graphCommand: CommandDef = {
  name: 'graph',
  summary: 'the lab as a diagram: Proxmox nodes → hosts → personas → stacks, and templates → hosts',
  description:
    'Prints a Mermaid flowchart (default; GitHub and most wikis render it in a ```mermaid block) or a Graphviz DOT\n' +
    'digraph (`--format dot | dot -Tsvg > lab.svg`). Reads the lab files only. The same lab gives the same output.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: the whole lab)' }],
  options: [{ name: 'format', type: 'string', value: 'mermaid|dot', description: 'the diagram language (default: mermaid)' }],
  examples: [
    { command: 'ahl graph > docs/lab.mmd', description: 'a Mermaid diagram of the whole lab' },
    { command: 'ahl graph --format dot | dot -Tsvg > lab.svg', description: 'an SVG through Graphviz' },
    { command: 'ahl graph docker --json', description: 'the docker persona\'s part as nodes and edges' },
  ],
  run: async (ctx) => (await handlers()).graph(ctx),
};

/** --layer, as drift and reconcile take it. */
export const driftCommand: CommandDef = {
  name: 'drift',
  summary: 'one drift report across layers: template lag (L1), VMs against Terraform and passthrough disks (L2), system (L3) and workload (L4) changes, each with its cause',
  description:
    'Asks Proxmox once for every guest (template lag: the VM was cloned from an older template than its channel points\n' +
    'at now), then for L2 whether each selected VM exists and its passthrough disks (one declared but not attached or\n' +
    'with other options, or a device path attached by hand), then runs the L3 and L4 playbooks with --check --diff on the\n' +
    'selected hosts. Each finding is classified:\n' +
    '"changed outside ahl" (the host differs from the intent it was last converged with), "intent changed" (the lab\n' +
    'changed since), "template moved", or "never converged here" (no record on this machine), with the command that\n' +
    'reconciles it. Changes nothing; the checks are remembered for `ahl status`.\n' +
    '--notify REF posts the report as JSON to a webhook when it is not clean; REF is a secret reference to the URL\n' +
    '(env:NAME, file:PATH or sops:PATH#KEY: webhook URLs carry tokens). The payload: {"lab", "at", "clean", "summary", "findings":\n' +
    '[{"layer", "host", "cause", "what", "reconcile"}], "unchecked": [{"layer", "host", "reason"}]}. A failed post is a\n' +
    'warning; the exit status still says whether there was drift.\n' +
    'Exit status: 0 no drift, 1 drift found or a host could not be checked, 2 ahl could not run.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona, an inventory group or a host (default: all)' }],
  options: [
    LAYER_OPTION,
    { name: 'notify', type: 'string', value: 'REF', description: 'post the report to the webhook URL this secret reference holds, when there is drift' },
  ],
  examples: [
    { command: 'ahl drift', description: 'the whole lab, every layer' },
    { command: 'ahl drift --notify env:AHL_DRIFT_WEBHOOK', description: 'from a timer: tell a webhook when the lab drifted' },
    { command: 'ahl drift docker --layer L4', description: 'only the stacks of the docker persona' },
    { command: 'ahl drift --json | jq \'.findings[] | select(.cause == "changed outside ahl")\'', description: 'only hand-made changes' },
  ],
  run: async (ctx) => (await handlers()).drift(ctx),
};

export const diffCommand: CommandDef = {
  name: 'diff',
  summary: 'what changes in intent between two Git refs, per host and layer, dangerous changes first',
  description:
    'Loads the lab at BASE and at HEAD (each a Git ref; HEAD defaults to the working tree as Git sees it, without\n' +
    'ignored files such as lab.local.yaml) and lists every change of intent: templates and images (L1), the VM\'s shape\n' +
    '(L2: update in place, or replace when the node, vmid or disk layout changes or a disk would shrink), system\n' +
    'config (L3), stacks, their env and files (L4) and backups, with what ahl would do about each. Destroys, replaces\n' +
    'and data at risk are flagged. BASE defaults to the commit last applied from this machine (recorded when a\n' +
    'converge succeeds), else HEAD. No server is contacted. --format markdown gives a pull-request comment.\n' +
    'Exit status: 0 (with --exit-code: 1 when something changed), 1 when a side\'s lab is invalid, 2 a Git error.',
  positionals: [
    { name: 'BASE', optional: true, description: 'a Git ref (default: the last applied commit, else HEAD)' },
    { name: 'HEAD', optional: true, description: 'a Git ref (default: the working tree)' },
  ],
  options: [
    { name: 'format', type: 'string', value: 'text|markdown', description: 'text for a terminal (default), markdown for a review comment' },
    { name: 'exit-code', type: 'boolean', description: 'exit 1 when there are changes, as `git diff --exit-code`' },
  ],
  examples: [
    { command: 'ahl diff', description: 'what the working tree changes since the last applied commit' },
    { command: 'ahl diff origin/main HEAD --format markdown > plan.md', description: 'a pull request\'s changes, as a review comment' },
    { command: 'ahl diff HEAD~1 HEAD --json | jq \'.hosts[] | select(.changes[].danger)\'', description: 'only hosts with dangerous changes' },
  ],
  run: async (ctx) => (await handlers()).diff(ctx),
};

export const powerCommand: CommandDef = {
  name: 'power',
  summary: 'start, shut down or reboot hosts, rolling one at a time with a health check between them',
  description:
    'Plans the action for every host of the target (a persona, an inventory group or a host) from one Proxmox API\n' +
    'call and prints it; nothing is done without --approve. With --approve the hosts are handled one at a time in\n' +
    'name order: the action\'s task is awaited, then (start, reboot) the VM must be running and its guest agent, when\n' +
    'it has one, must answer before the next host is touched. The first host that fails stops the roll; the rest are\n' +
    'left as they were. --if-needed (reboot) first asks each host over SSH whether a reboot is pending\n' +
    '(/run/reboot-required, raised by Debian and Ubuntu updates) and reboots only those.\n' +
    'Exit status: 0 done (or planned), 1 a host failed, 2 ahl could not run.',
  positionals: [
    { name: 'ACTION', description: 'start, shutdown or reboot' },
    { name: 'TARGET', description: 'a persona, an inventory group or a host' },
  ],
  options: [
    { name: 'approve', type: 'boolean', description: 'act; without it only the plan is shown' },
    { name: 'if-needed', type: 'boolean', description: 'reboot only hosts that report a pending reboot' },
    { name: 'timeout', type: 'string', value: 'SECONDS', description: 'per host, for the action and the health check (default 300)' },
  ],
  locks: (o) => Boolean(o.approve),
  examples: [
    { command: 'ahl power reboot docker --if-needed', description: 'which docker hosts wait for a reboot (dry run)' },
    { command: 'ahl power reboot docker --if-needed --approve', description: 'reboot them, one at a time' },
    { command: 'ahl power shutdown media --approve', description: 'shut down every host of the media group' },
  ],
  run: async (ctx) => (await handlers()).power(ctx),
};
