import type { CommandContext } from '../command.js';

/** Ansible could not complete: the error names the command, exit status and masked output. */
export async function ansibleFailure(ctx: CommandContext, e: unknown): Promise<number> {
  const { isConvergeError } = await import('@ahl/l3-system');
  if (!isConvergeError(e)) throw e;
  const { out } = ctx;
  out.line(`${out.style('red', e.code)}: ${e.message}`);
  if (e.output) out.line(e.output.replace(/^/gm, '  '));
  out.line(`  ${out.style('dim', 'fix:')} ${e.hint}`);
  if (ctx.global.json) out.json({ ok: false, error: e.toJSON() });
  return 2;
}
