import { type Diagnostic, formatDiagnostic, formatEnvFallback, loadLab, plural } from '@ahl/core';
import type { CommandContext } from '../command.js';
import { labRoot } from '../runs/lab-root.js';

/** `ahl validate`. */
export async function validate(ctx: CommandContext): Promise<number> {
  const root = await labRoot(ctx);
  const result = await loadLab(root, { cache: false, env: ctx.env });
  const { out } = ctx;
  const files = new Set([...result.errors, ...result.warnings].map((d) => d.file)).size;
  const summary = result.lab
    ? {
        name: result.lab.name,
        images: Object.keys(result.lab.images).length,
        personas: Object.keys(result.lab.personas).length,
        hosts: result.lab.hosts.length,
        stacks: Object.keys(result.lab.stacks).length,
      }
    : undefined;

  const show = (d: Diagnostic) =>
    d.severity === 'error'
      ? out.line(`${out.style('red', formatDiagnostic(d))}`)
      : out.line(`${out.style('yellow', formatDiagnostic(d))} ${out.style('dim', '[warning]')}`);
  result.errors.forEach(show);
  result.warnings.forEach(show);
  for (const f of result.envFallbacks ?? []) out.line(formatEnvFallback(f));
  if (summary) {
    const counts = [
      `${summary.personas} ${plural(summary.personas, 'persona')}`,
      `${summary.hosts} ${plural(summary.hosts, 'host')}`,
      `${summary.images} ${plural(summary.images, 'image')}`,
      `${summary.stacks} ${plural(summary.stacks, 'stack')}`,
    ].join(', ');
    const warn = result.warnings.length ? `, ${result.warnings.length} ${plural(result.warnings.length, 'warning')}` : '';
    out.line(`${out.style('green', '✓')} lab "${summary.name}" is valid: ${counts}${warn}`);
  } else {
    const n = result.errors.length;
    out.line(
      `${out.style('red', '✗')} the lab is invalid: ${n} ${plural(n, 'error')}${result.warnings.length ? `, ${result.warnings.length} ${plural(result.warnings.length, 'warning')}` : ''} in ${files} ${plural(files, 'file')}; nothing was contacted or changed`,
    );
  }
  if (ctx.global.json) out.json({ ok: Boolean(summary), root, lab: summary ?? null, errors: result.errors, warnings: result.warnings, envFallbacks: result.envFallbacks ?? [] });
  return summary ? 0 : 1;
}
