import type { CommandDef } from '../command.js';

const handlers = () => import('../handlers/converge.js');

export const convergeSystemCommand: CommandDef = {
  name: 'converge system',
  locks: (o) => !o.check,
  summary: 'converge the OS of hosts with Ansible (users, packages, sshd, firewall, services, monitoring, Docker, the lab\'s roles)',
  description:
    'Renders the Ansible inventory from the lab and runs the bundled playbook with ansible-playbook on every host of\n' +
    'the persona or the host named (default: every host with a system section), in parallel, with live progress per\n' +
    'host. --check reports drift (what would change, with diffs) and changes nothing. Hosts are reached over SSH as\n' +
    'lab.yaml\'s ssh section says; hostKeyPolicy accept-new trusts a new host key once and refuses a changed one.\n' +
    'The lab\'s own roles and task files (a persona\'s system.roles) run after ahl\'s, in order, each with its tag.\n' +
    'Exit 1 when a host failed or was unreachable, or when --check found drift.',
  positionals: [{ name: 'TARGET', optional: true, description: 'a persona or a host (default: all)' }],
  options: [
    { name: 'check', type: 'boolean', description: 'report drift with diffs; change nothing' },
    {
      name: 'tags',
      type: 'string',
      value: 'TAGS',
      description:
        'only these roles, comma-separated: base, sysctl, swap, mounts, container_engine, users, sshd, firewall, files, unattended_upgrades, monitoring, services, or the tag of one of the lab\'s roles',
    },
    { name: 'forks', type: 'string', value: 'N', description: 'hosts converged at once (default: all selected, at most 20)' },
  ],
  examples: [
    { command: 'ahl converge system devops', description: 'converge every host of the devops persona' },
    { command: 'ahl converge system docker-01 --check', description: 'show what would change on one host (drift), changing nothing' },
    { command: 'ahl converge system --tags users,sshd', description: 'only the users and sshd roles, on every host' },
    { command: 'ahl converge system devops --tags motd', description: 'only the lab\'s own role tagged motd (system.roles), on the devops hosts' },
    { command: 'ahl converge system --json | jq \'.hosts[] | select(.status != "ok")\'', description: 'machine-readable per-host results' },
  ],
  run: async (ctx) => (await handlers()).convergeSystem(ctx),
};
