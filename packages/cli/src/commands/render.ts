import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { CommandDef } from '../command.js';
import { loadValidLab } from '../runs/lab-root.js';

const MARKER = '.ahl-render';

export const renderCommand: CommandDef = {
  name: 'render',
  summary: 'write what every layer would apply, without touching any API, secret or host',
  description:
    'Renders the lab from the repository and its recorded template manifests, as each layer hands it to its engine:\n' +
    'l2/main.tf.json (the Terraform module), l1/seed/HOST/ (a bare-metal host\'s NoCloud seed), l3/ and l4/ (the Ansible\n' +
    'inventories and host_vars) and l4/stacks/ (the stack files as copied). Stack secrets are never resolved: the\n' +
    'workload env, which holds them, is written only on the host. Without --out the files are printed one after\n' +
    'another, each after a "--- PATH" line, like `helm template`. Safe on an untrusted pull request: it needs no secret.',
  options: [
    {
      name: 'out',
      type: 'string',
      value: 'DIR',
      description: 'write the files into DIR instead of printing them: a new or empty folder, or one an earlier render wrote (it is replaced)',
    },
  ],
  examples: [
    { command: 'ahl render', description: 'print everything a change would run' },
    { command: 'ahl render --out /tmp/before && git switch pr && ahl render --out /tmp/after && diff -r /tmp/before /tmp/after', description: 'review what a pull request changes' },
    { command: 'ahl render --json | jq -r \'.files | keys[]\'', description: 'list the rendered files' },
  ],
  async run(ctx) {
    const { ahlError } = await import('@ahl/core');
    const { renderFacts, renderLab } = await import('@ahl/ops');
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
  },
};
