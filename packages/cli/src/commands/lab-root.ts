import { resolve } from 'node:path';
import type { CommandContext } from '../command.js';

/** The lab root: --dir as given, or found upward from the working directory. */
export async function labRoot(ctx: CommandContext): Promise<string> {
  const { findLabRoot, readLabInput } = await import('@ahl/core');
  if (ctx.global.dir !== undefined) {
    const dir = resolve(ctx.cwd, ctx.global.dir);
    await readLabInput(dir).then(() => undefined);
    return dir;
  }
  return findLabRoot(ctx.cwd);
}
