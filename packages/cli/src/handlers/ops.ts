import { ahlError, connectLab, formatDiagnostic, plural, readApplied, selectTargets } from '@ahl/core';
import { serverGuests } from '@ahl/l1-image';
import { pendingReboots, systemHosts } from '@ahl/l3-system';
import { buildGraph, diffLabs, driftPayload, gatherStatus, labAt, planPower, POWER_ACTIONS, runPower, shortRef, WORKING_TREE } from '@ahl/ops';
import type { CommandContext } from '../command.js';
import { ansibleFailure } from '../runs/ansible.js';
import { checkDrift, driftOptions, notifyWebhook } from '../runs/drift.js';
import { labRoot, loadValidLab } from '../runs/lab-root.js';
import { renderDiff, renderDiffMarkdown } from '../views/diff.js';
import { renderDrift } from '../views/drift.js';
import { renderDot, renderMermaid } from '../views/graph.js';
import { renderStatus } from '../views/status.js';

/** `ahl status`. */
export async function status(ctx: CommandContext): Promise<number> {
  const lab = await loadValidLab(ctx);
  const only = new Set(selectTargets(lab, lab.hosts, ctx.positionals, { command: 'status' }).map((h) => h.name));
  const secrets = await ctx.secrets(lab.root);
  const full = await gatherStatus(lab, () => connectLab(lab.config, secrets, lab.root));
  const report = { ...full, hosts: full.hosts.filter((h) => only.has(h.host)) };
  ctx.out.report(renderStatus(report, (s, t) => ctx.out.style(s, t)).trimEnd());
  if (ctx.global.json) ctx.out.json(report);
  return report.api.ok ? 0 : 2;
}

/** `ahl graph`. */
export async function graph(ctx: CommandContext): Promise<number> {
  const format = ctx.options.format ?? 'mermaid';
  if (format !== 'mermaid' && format !== 'dot') throw ahlError('USAGE', { message: `unknown format "${String(format)}"; expected mermaid or dot`, command: 'graph' });
  const lab = await loadValidLab(ctx);
  const hosts = selectTargets(lab, lab.hosts, ctx.positionals, { command: 'graph' }).map((h) => h.name);
  const graph = buildGraph(lab, hosts);
  if (ctx.global.json) ctx.out.json(graph);
  else ctx.out.result(format === 'dot' ? renderDot(graph, lab.name) : renderMermaid(graph));
  return 0;
}

/** `ahl drift`. */
export async function drift(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const { layers, notify } = await driftOptions(ctx, 'drift');
  const lab = await loadValidLab(ctx);
  const secrets = await ctx.secrets(lab.root);
  try {
    const report = await checkDrift(ctx, lab, secrets, layers, 'drift');
    out.report(renderDrift(report, (s, t) => out.style(s, t)).trimEnd());
    if (typeof notify === 'string' && !report.clean) await notifyWebhook(ctx, secrets, notify, driftPayload(lab.name, report));
    if (ctx.global.json) out.json(report);
    return report.clean ? 0 : 1;
  } catch (e) {
    return ansibleFailure(ctx, e);
  }
}

/** `ahl diff`. */
export async function diff(ctx: CommandContext): Promise<number> {
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
}

/** `ahl power`. */
export async function power(ctx: CommandContext): Promise<number> {
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
}
