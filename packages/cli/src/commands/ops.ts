import type { CommandDef } from '../command.js';
import { checkDrift, driftOptions, LAYER_OPTION } from '../runs/drift.js';
import { loadValidLab } from '../runs/lab-root.js';

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
  async run(ctx) {
    const { connectLab, selectTargets } = await import('@ahl/core');
    const { gatherStatus } = await import('@ahl/ops');
    const { renderStatus } = await import('../views/status.js');
    const lab = await loadValidLab(ctx);
    const only = new Set(selectTargets(lab, lab.hosts, ctx.positionals, { command: 'status' }).map((h) => h.name));
    const secrets = await ctx.secrets(lab.root);
    const full = await gatherStatus(lab, () => connectLab(lab.config, secrets, lab.root));
    const report = { ...full, hosts: full.hosts.filter((h) => only.has(h.host)) };
    ctx.out.report(renderStatus(report, (s, t) => ctx.out.style(s, t)).trimEnd());
    if (ctx.global.json) ctx.out.json(report);
    return report.api.ok ? 0 : 2;
  },
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
  async run(ctx) {
    const { ahlError, selectTargets } = await import('@ahl/core');
    const { buildGraph } = await import('@ahl/ops');
    const { renderDot, renderMermaid } = await import('../views/graph.js');
    const format = ctx.options.format ?? 'mermaid';
    if (format !== 'mermaid' && format !== 'dot') throw ahlError('USAGE', { message: `unknown format "${String(format)}"; expected mermaid or dot`, command: 'graph' });
    const lab = await loadValidLab(ctx);
    const hosts = selectTargets(lab, lab.hosts, ctx.positionals, { command: 'graph' }).map((h) => h.name);
    const graph = buildGraph(lab, hosts);
    if (ctx.global.json) ctx.out.json(graph);
    else ctx.out.result(format === 'dot' ? renderDot(graph, lab.name) : renderMermaid(graph));
    return 0;
  },
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
  async run(ctx) {
    const { renderDrift } = await import('../views/drift.js');
    const { ansibleFailure } = await import('../runs/ansible.js');
    const { out } = ctx;
    const { layers, notify } = await driftOptions(ctx, 'drift');
    const lab = await loadValidLab(ctx);
    const secrets = await ctx.secrets(lab.root);
    try {
      const report = await checkDrift(ctx, lab, secrets, layers, 'drift');
      out.report(renderDrift(report, (s, t) => out.style(s, t)).trimEnd());
      if (typeof notify === 'string' && !report.clean) {
        const { postDrift } = await import('@ahl/ops');
        const sent = await postDrift(secrets.resolve(notify, '--notify'), lab.name, report);
        out.line(sent.ok ? out.style('dim', `notified the webhook (${sent.status})`) : out.style('yellow', `! the webhook was not notified: ${secrets.redactor.redact(sent.error)}`));
      }
      if (ctx.global.json) out.json(report);
      return report.clean ? 0 : 1;
    } catch (e) {
      return ansibleFailure(ctx, e);
    }
  },
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
  async run(ctx) {
    const { ahlError, formatDiagnostic, readApplied } = await import('@ahl/core');
    const { diffLabs, WORKING_TREE, labAt, shortRef } = await import('@ahl/ops');
    const { renderDiff, renderDiffMarkdown } = await import('../views/diff.js');
    const { labRoot } = await import('../runs/lab-root.js');
    const { out } = ctx;
    const format = ctx.options.format ?? 'text';
    if (format !== 'text' && format !== 'markdown') throw ahlError('USAGE', { message: `unknown format "${String(format)}"; expected text or markdown`, command: 'diff' });
    const root = await labRoot(ctx);
    const base = ctx.positionals[0] ?? (await readApplied(root))?.commit ?? 'HEAD';
    const head = ctx.positionals[1] ?? WORKING_TREE;
    const [a, b] = [await labAt(root, base, ctx.env), await labAt(root, head, ctx.env)];
    try {
      const names = { base: await shortRef(root, base), head: await shortRef(root, head) };
      for (const [side, name] of [[a, names.base], [b, names.head]] as const) for (const d of side.errors) out.line(out.style('red', `${name}: ${formatDiagnostic(d)}`), 'error');
      if (!a.lab || !b.lab) {
        const errors = [...a.errors, ...b.errors];
        throw ahlError('LAB_INVALID', { errors: errors.length, warnings: 0, files: new Set(errors.map((d) => d.file)).size });
      }
      const diff = diffLabs({ lab: a.lab, stackDigests: a.stackDigests }, { lab: b.lab, stackDigests: b.stackDigests }, names);
      if (format === 'markdown') out.result(renderDiffMarkdown(diff));
      else out.report(renderDiff(diff, (s, t) => out.style(s, t)).trimEnd());
      if (ctx.global.json) out.json(diff);
      const changed = diff.lab.length + diff.images.length + diff.hosts.length > 0;
      return ctx.options['exit-code'] && changed ? 1 : 0;
    } finally {
      await Promise.all([a.cleanup(), b.cleanup()]);
    }
  },
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
  async run(ctx) {
    const { ahlError, connectLab, plural, selectTargets } = await import('@ahl/core');
    const { serverGuests } = await import('@ahl/l1-image');
    const { POWER_ACTIONS, planPower, runPower } = await import('@ahl/ops');
    const { out } = ctx;
    const action = ctx.positionals[0] as (typeof POWER_ACTIONS)[number];
    if (!POWER_ACTIONS.includes(action)) throw ahlError('USAGE', { message: `unknown action "${action}"; expected ${POWER_ACTIONS.join(', ')}`, command: 'power' });
    if (ctx.options['if-needed'] && action !== 'reboot') throw ahlError('USAGE', { message: '--if-needed goes with reboot only', command: 'power' });
    const timeout = ctx.options.timeout === undefined ? 300 : Number(ctx.options.timeout);
    if (!(Number.isInteger(timeout) && timeout > 0)) throw ahlError('USAGE', { message: '--timeout must be a positive whole number of seconds', command: 'power' });
    const lab = await loadValidLab(ctx);
    const hosts = selectTargets(lab, lab.hosts, [ctx.positionals[1]!], { command: 'power' });
    const secrets = await ctx.secrets(lab.root);
    let pending;
    if (ctx.options['if-needed']) {
      const { pendingReboots, systemHosts } = await import('@ahl/l3-system');
      const asked = systemHosts(lab).filter((h) => hosts.some((x) => x.name === h.name));
      const answers = asked.length ? await pendingReboots(lab, { targets: asked.map((h) => h.name), redactor: secrets.redactor, env: ctx.env }) : [];
      pending = new Map(answers.map((a) => [a.host, a]));
    }
    const client = await connectLab(lab.config, secrets, lab.root);
    try {
      const steps = planPower(action, hosts, await serverGuests(client), pending);
      const acting = steps.filter((s) => s.act).length;
      for (const s of steps) out.line(`${s.act ? out.style('cyan', '→') : out.style('dim', '·')} ${s.host}${s.vmid ? out.style('dim', ` (vmid ${s.vmid} on ${s.node}, ${s.power})`) : ''}  ${s.reason}`);
      if (!ctx.options.approve) {
        out.warn(`dry run: ${acting} ${plural(acting, 'host')} would ${action}; nothing was changed (--approve to act)`);
        if (ctx.global.json) out.json({ action, approved: false, steps });
        return 0;
      }
      const results = await runPower(client, action, steps, {
        timeoutMs: timeout * 1000,
        signal: ctx.signal,
        onStart: (s) => out.progress({ step: action, target: s.host, status: 'start' }, `  ${s.host}: ${action}…`),
        onDone: (r) =>
          r.status === 'done'
            ? out.progress({ step: action, target: r.host, status: 'ok' }, `${out.style('green', '✓')} ${r.host}  ${action} done in ${Math.round((r.durationMs ?? 0) / 1000)} s`)
            : out.progress({ step: action, target: r.host, status: 'failed', ...(r.message ? { detail: r.message } : {}) }, `${out.style('red', '✗')} ${r.host}  ${r.message}`),
      });
      const failed = results.filter((r) => r.status === 'failed').length;
      const untouched = results.filter((r) => r.status === 'not reached').map((r) => r.host);
      if (untouched.length) out.warn(`stopped: ${untouched.join(', ')} ${untouched.length === 1 ? 'was' : 'were'} left as ${untouched.length === 1 ? 'it was' : 'they were'}`);
      const done = results.filter((r) => r.status === 'done').length;
      out.line(failed ? out.style('red', `${failed} ${plural(failed, 'host')} failed`) : out.style('green', `${action}: ${done} ${plural(done, 'host')} done`));
      if (ctx.global.json) out.json({ action, approved: true, steps, results });
      return failed ? 1 : 0;
    } finally {
      await client.close();
    }
  },
};
