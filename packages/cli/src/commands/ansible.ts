import type { Reporter } from '@ahl/core';
import type { ConvergeError } from '@ahl/l3-system';
import type { CommandContext } from '../command.js';

/** Live per-host progress of a playbook: a line for each task that changed (labelled `changed`) or failed. */
export function ansibleReporter(out: CommandContext['out'], changed: string): Reporter {
  const mark = { changed: out.style('yellow', changed), failed: out.style('red', 'failed') };
  return out.reporter((e) => (e.status === 'changed' || e.status === 'failed' ? `  ${e.target ?? ''}  ${mark[e.status]}  ${e.step}${e.detail ? `: ${e.detail.split('\n')[0]}` : ''}` : undefined));
}

/** Prints why Ansible could not complete (the command, exit status and masked output); rethrows any other error. */
export async function printAnsibleFailure(ctx: CommandContext, e: unknown): Promise<ConvergeError> {
  const { isConvergeError } = await import('@ahl/l3-system');
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
