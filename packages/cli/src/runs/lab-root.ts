import { resolve } from 'node:path';
import { ahlError, findLabRoot, formatDiagnostic, type Lab, loadLab, readLabInput } from '@ahl/core';
import type { CommandContext } from '../command.js';

/** The lab root: --dir as given, or found upward from the working directory. */
export async function labRoot(ctx: CommandContext): Promise<string> {
  if (ctx.global.dir !== undefined) {
    const dir = resolve(ctx.cwd, ctx.global.dir);
    await readLabInput(dir).then(() => undefined);
    return dir;
  }
  return findLabRoot(ctx.cwd);
}

/**
 * The validated lab, for commands that act on it. An invalid lab is reported line by line, as
 * `ahl validate` does, and raised as LAB_INVALID: nothing is contacted.
 */
export async function loadValidLab(ctx: CommandContext): Promise<Lab> {
  const result = await loadLab(await labRoot(ctx), { env: ctx.env });
  if (result.lab) return result.lab;
  for (const d of result.errors) ctx.out.line(ctx.out.style('red', formatDiagnostic(d)));
  throw ahlError('LAB_INVALID', { errors: result.errors.length, warnings: result.warnings.length, files: new Set(result.errors.map((d) => d.file)).size });
}
