import { ahlError } from '@ahl/core';
import { systemTags } from '@ahl/l3-system';
import type { CommandContext } from '../command.js';
import { ansibleFailure } from '../runs/ansible.js';
import { loadValidLab } from '../runs/lab-root.js';
import { systemRun } from '../runs/layers.js';

/** `ahl converge system`. */
export async function convergeSystem(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const lab = await loadValidLab(ctx);
  const root = lab.root;
  const tags = typeof ctx.options.tags === 'string' ? ctx.options.tags.split(',').map((t) => t.trim()).filter(Boolean) : undefined;
  const known = systemTags(lab);
  const badTag = tags?.find((t) => !known.includes(t));
  if (badTag) throw ahlError('USAGE', { message: `unknown tag "${badTag}"; expected ${known.join(', ')}`, command: 'converge system' });
  const forks = typeof ctx.options.forks === 'string' ? Number(ctx.options.forks) : undefined;
  if (forks !== undefined && !(Number.isInteger(forks) && forks > 0)) throw ahlError('USAGE', { message: '--forks must be a positive whole number', command: 'converge system' });
  const check = Boolean(ctx.options.check);
  const secrets = await ctx.secrets(root);
  try {
    const { code, result } = await systemRun(ctx, lab, secrets, { ...(ctx.positionals[0] ? { targets: [ctx.positionals[0]] } : {}), check, ...(tags ? { tags } : {}), ...(forks ? { forks } : {}) });
    if (ctx.global.json) out.json({ ...result, ok: code === 0 });
    return code;
  } catch (e) {
    return ansibleFailure(ctx, e);
  }
}
