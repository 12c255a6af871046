import { plural, type Reporter } from '@ahl/core';
import { type ConvergeError, isConvergeError } from '@ahl/l3-system';
import type { CommandContext } from '../command.js';

/** Live per-host progress of a playbook: a line for each task that changed (labelled `changed`) or failed. */
export function ansibleReporter(out: CommandContext['out'], changed: string): Reporter {
  const mark = { changed: out.style('yellow', changed), failed: out.style('red', 'failed') };
  return out.reporter((e) => (e.status === 'changed' || e.status === 'failed' ? `  ${e.target ?? ''}  ${mark[e.status]}  ${e.step}${e.detail ? `: ${e.detail.split('\n')[0]}` : ''}` : undefined));
}

/**
 * The end of an L3 or L4 run: its exit status (1 when a host failed or was unreachable, or a check
 * found changes) and, when `summary`, the line that says so. `words` name what a check found and
 * what a run did, e.g. { found: 'drift found', none: 'no drift', did: 'converged', again: 'converge' }.
 */
export async function summariseRun(
  out: CommandContext['out'],
  hosts: readonly { readonly status: 'ok' | 'changed' | 'failed' | 'unreachable' }[],
  check: boolean,
  summary: boolean,
  words: { readonly found: string; readonly none: string; readonly did: string; readonly again: string },
): Promise<number> {
  const found = check && hosts.some((h) => h.status === 'changed');
  const bad = hosts.filter((h) => h.status === 'failed' || h.status === 'unreachable').length;
  if (!summary) {
    // The caller sums up.
  } else if (bad) out.line(out.style('red', `${bad} ${plural(bad, 'host')} failed or unreachable`), 'error');
  else if (found) out.warn(`${words.found}; nothing was changed (run without --check to ${words.again})`);
  else out.line(out.style('green', check ? words.none : `${words.did} ${hosts.length} ${plural(hosts.length, 'host')}`));
  return bad || found ? 1 : 0;
}

/** Prints why Ansible could not complete (the command, exit status and masked output); rethrows any other error. */
export async function printAnsibleFailure(ctx: CommandContext, e: unknown): Promise<ConvergeError> {
  if (!isConvergeError(e)) throw e;
  const { out } = ctx;
  out.error(e.toJSON(), [`${out.style('red', e.code)}: ${e.message}`, ...(e.output ? [e.output.replace(/^/gm, '  ')] : []), `  ${out.style('dim', 'fix:')} ${e.hint}`]);
  return e;
}

/** Ansible could not complete: the error names the command, exit status and masked output. */
export async function ansibleFailure(ctx: CommandContext, e: unknown): Promise<number> {
  const err = await printAnsibleFailure(ctx, e);
  if (ctx.global.json) ctx.out.json({ ok: false, error: err.toJSON() });
  return 2;
}
