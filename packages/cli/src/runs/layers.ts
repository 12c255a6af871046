import type { Lab, ProxmoxClient, Secrets } from '@ahl/core';
import { type L2Outcome, type L2Plan, runL2 } from '@ahl/l2-instantiate';
import { type ConvergeResult, convergeSystem } from '@ahl/l3-system';
import { type DeployResult, deployWorkloads } from '@ahl/l4-workload';
import { rememberLayer } from '@ahl/ops';
import type { CommandContext } from '../command.js';
import { ansibleReporter, summariseRun } from './ansible.js';

/*
 * A layer's run as the commands share it (apply and destroy, converge, up, rebuild, reconcile):
 * the layer's runner with live progress on the terminal, a line per host, and the result.
 */

/**
 * L2's runner (`runL2` in @ahl/l2-instantiate) with per-VM progress on the terminal. `quiet`: the
 * caller reports a failure itself (Terraform's diagnostics are not printed).
 */
export async function l2Run(
  ctx: CommandContext,
  lab: Lab,
  secrets: Secrets,
  o: { hosts?: readonly string[]; destroy?: boolean; replace?: boolean; approve: boolean | ((plan: L2Plan) => boolean); client?: ProxmoxClient; quiet?: boolean },
): Promise<L2Outcome> {
  const { out } = ctx;
  const reporter = out.reporter(
    (e) => `  ${e.target ?? ''}  ${e.status === 'start' ? out.style('dim', `${e.step}…`) : e.status === 'failed' ? out.style('red', `${e.step} failed`) : out.style('green', `${e.step} done`)}${e.detail ? out.style('dim', ` (${e.detail})`) : ''}`,
    (m) => out.style('dim', m),
  );
  const { quiet, ...run } = o;
  try {
    return await runL2(lab, secrets, { ...run, env: ctx.env, reporter, redactor: secrets.redactor, signal: ctx.signal });
  } catch (e) {
    if (!quiet) printTerraformFailure(ctx, e);
    throw e;
  }
}

/** Terraform's diagnostics, each with its resource, under the error main() prints. */
function printTerraformFailure(ctx: CommandContext, e: unknown): void {
  const err = e as { code?: string; details?: { diagnostics?: readonly { severity: string; summary: string; detail?: string; address?: string }[]; stderr?: string } };
  if (err.code !== 'TERRAFORM_FAILED' || ctx.global.json) return;
  const { out } = ctx;
  for (const d of err.details?.diagnostics ?? [])
    out.line(`${out.style(d.severity === 'error' ? 'red' : 'yellow', d.severity)}${d.address ? ` ${d.address}` : ''}: ${d.summary}${d.detail ? `\n${d.detail.replace(/^/gm, '    ')}` : ''}`, d.severity === 'error' ? 'error' : 'warn');
  if (err.details?.stderr) out.line(err.details.stderr.replace(/^/gm, '    '), 'error');
}

/**
 * One L3 run (a converge, or with check a drift check) with live progress, a line per host and a
 * summary, remembered for `ahl status` (unless limited by tags). Exit 1 when a host failed or was
 * unreachable, or a check found drift. Shared by `converge system` and `up`.
 */
export async function systemRun(
  ctx: CommandContext,
  lab: Lab,
  secrets: Secrets,
  opts: { targets?: string[]; check: boolean; tags?: string[]; forks?: number; waitHosts?: readonly string[]; skipUnchanged?: boolean },
  summary = true,
): Promise<{ code: number; result: ConvergeResult }> {
  const { out } = ctx;
  const { check, tags } = opts;
  const r = await convergeSystem(lab, { ...opts, redactor: secrets.redactor, env: ctx.env, reporter: ansibleReporter(out, check ? 'drift' : 'changed') });
  for (const h of r.hosts) {
    const state = h.status === 'ok' ? out.style('green', '✓') : h.status === 'changed' ? out.style('yellow', check ? '≠' : '✓') : out.style('red', '✗');
    const what =
      h.status === 'unreachable'
        ? `unreachable: ${h.unreachable?.split('\n')[0] ?? ''}`
        : h.unchanged
          ? 'unchanged since its last converge'
          : `ok=${h.counts.ok} changed=${h.counts.changed} failed=${h.counts.failed} skipped=${h.counts.skipped}`;
    out.line(`${state} ${h.host}  ${what}`);
    if (check) for (const c of h.changed) out.line(`    ${c.task}${c.diff ? `\n${c.diff.replace(/^/gm, '      ')}` : ''}`);
  }
  // A converge limited by --tags did not look at every role: it says nothing of the host as a whole.
  if (!tags) await rememberLayer(ctx.out.warn, lab, 'system', check, r.hosts);
  return { code: await summariseRun(out, r.hosts, check, summary, { found: 'drift found', none: 'no drift', did: 'converged', again: 'converge' }), result: r };
}

/**
 * One L4 run (a deploy, or with check what would change) with live progress, a line per host and
 * stack and a summary, remembered for `ahl status` (unless limited to some stacks). Exit 1 when a
 * host failed or was unreachable, or a check found changes. Shared by `converge workload` and `up`.
 */
export async function workloadRun(
  ctx: CommandContext,
  lab: Lab,
  secrets: Secrets,
  opts: { targets?: string[]; stacks?: string[]; check: boolean; approve: boolean; skipUnchanged?: boolean },
  summary = true,
): Promise<{ code: number; result: DeployResult }> {
  const { out } = ctx;
  const { check, stacks } = opts;
  const r = await deployWorkloads(lab, { ...opts, secrets, env: ctx.env, reporter: ansibleReporter(ctx.out, check ? 'would change' : 'changed') });
  for (const h of r.hosts) {
    const bad = h.status === 'failed' || h.status === 'unreachable';
    out.line(
      `${bad ? out.style('red', '✗') : out.style('green', '✓')} ${h.host}${h.status === 'unreachable' ? `  unreachable: ${h.unreachable?.split('\n')[0] ?? ''}` : ''}${h.compose ? `  (${h.compose})` : ''}${h.unchanged ? '  unchanged since its last deploy' : ''}`,
    );
    for (const s of h.stacks ?? []) {
      const what = check ? (s.changed ? 'would change' : 'unchanged') : s.action === 'recreate' ? 'updated' : s.action === 'up' ? 'started' : 'unchanged';
      out.line(`    ${s.name}  ${what}${s.containers.length ? `  ${s.containers.join(', ')}` : ''}`);
    }
    for (const f of h.failed) out.line(`    ${out.style('red', 'failed')} ${f.task}: ${f.message.split('\n')[0]}`);
    const kept = (h.orphans ?? []).filter((o) => !(h.removed ?? []).includes(o));
    if (h.removed?.length) out.line(`    removed (no longer declared): ${h.removed.join(', ')}`);
    if (kept.length) out.warn(`    no longer declared: ${kept.join(', ')} (run with --approve to remove; data stays)`);
  }
  // Only a run over every stack speaks for the host as a whole.
  if (!stacks) await rememberLayer(ctx.out.warn, lab, 'workload', check, r.hosts);
  return { code: await summariseRun(out, r.hosts, check, summary, { found: 'changes found', none: 'no changes', did: 'deployed', again: 'deploy' }), result: r };
}
