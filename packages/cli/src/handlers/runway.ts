import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { connectLab, isAhlError } from '@ahl/core';
import { renderRunway, runRunway, runwayArtifact } from '@ahl/l0-runway';
import type { CommandContext } from '../command.js';
import { loadValidLab } from '../runs/lab-root.js';

/** `ahl runway`. */
export async function runway(ctx: CommandContext): Promise<number> {
  let lab;
  try {
    lab = await loadValidLab(ctx);
  } catch (e) {
    if (isAhlError(e) && e.code === 'LAB_INVALID') {
      ctx.out.line(`${ctx.out.style('red', '✗')} the runway was not checked: the lab is invalid (run \`ahl validate\`)`);
      return 2;
    }
    throw e;
  }
  const secrets = await ctx.secrets(lab.root);
  const client = await connectLab(lab.config, secrets, lab.root);
  try {
    const report = await runRunway(lab, client);
    ctx.out.report(renderRunway(report, (s, t) => ctx.out.style(s, t)).trimEnd());
    const artifact = typeof ctx.options.artifact === 'string' ? (isAbsolute(ctx.options.artifact) ? ctx.options.artifact : join(ctx.cwd, ctx.options.artifact)) : join(lab.root, 'artifacts', 'runway.json');
    await mkdir(dirname(artifact), { recursive: true });
    await writeFile(artifact, secrets.redactor.redact(runwayArtifact(report)));
    ctx.out.line(ctx.out.style('dim', `report: ${relative(ctx.cwd, artifact) || artifact} (${report.calls} API calls)`));
    if (ctx.global.json) ctx.out.json(JSON.parse(runwayArtifact(report)));
    return report.status === 'FAIL' ? 1 : 0;
  } finally {
    await client.close();
  }
}
