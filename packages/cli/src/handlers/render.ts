import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { ahlError } from '@ahl/core';
import { renderFacts, renderLab } from '@ahl/ops';
import type { CommandContext } from '../command.js';
import { loadValidLab } from '../runs/lab-root.js';

const MARKER = '.ahl-render';

/** `ahl render`. */
export async function render(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const lab = await loadValidLab(ctx);
  const rendered = renderLab(lab, await renderFacts(lab));
  for (const u of rendered.unresolved) out.line(out.style('yellow', `! ${u.host}: ${u.template} names no built template yet; left out of l2/main.tf.json (ahl image build first)`));
  const target = typeof ctx.options.out === 'string' ? resolve(ctx.cwd, ctx.options.out) : undefined;
  if (target) {
    // Replaced whole, so a file no longer rendered does not linger; only a folder render made itself.
    const present = await readdir(target).catch(() => [] as string[]);
    if (present.length && !present.includes(MARKER))
      throw ahlError('RENDER_TARGET_NOT_EMPTY', { target });
    await rm(target, { recursive: true, force: true });
    await mkdir(target, { recursive: true });
    await writeFile(join(target, MARKER), 'Written by `ahl render`; the next render into this folder replaces it whole.\n');
    for (const [p, text] of Object.entries(rendered.files)) {
      await mkdir(dirname(join(target, p)), { recursive: true });
      await writeFile(join(target, p), text);
    }
    out.line(`wrote ${Object.keys(rendered.files).length} files to ${relative(ctx.cwd, target) || '.'}; nothing was contacted or changed`);
  } else if (!ctx.global.json) {
    for (const [p, text] of Object.entries(rendered.files)) out.result(`--- ${p}\n${text.endsWith('\n') ? text.slice(0, -1) : text}`);
  }
  if (ctx.global.json) out.json({ ok: true, out: target ?? null, files: rendered.files, unresolved: rendered.unresolved });
  return 0;
}
