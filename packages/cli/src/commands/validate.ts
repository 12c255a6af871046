import type { Diagnostic } from '@ahl/core';
import type { CommandDef } from '../command.js';
import { labRoot } from '../runs/lab-root.js';

export const validateCommand: CommandDef = {
  name: 'validate',
  summary: 'check the lab files against the model and each other (reads local files only)',
  description:
    'Reads lab.yaml, images/*.yaml, personas/*.yaml and the stacks/ folders, and reports every problem at once as\n' +
    'FILE:LINE:COL FIELD: MESSAGE. Nothing is contacted or changed.\n' +
    'The original lab\'s environment variables fill what lab.yaml leaves out (lab.yaml wins where it sets a value):\n' +
    'PVE_ACCESS_HOST (proxmox.endpoint), PM_TOKEN_ID, PM_TOKEN_SECRET (tokenSecret: env:PM_TOKEN_SECRET), PVE_NODE (nodes),\n' +
    'PVE_STORAGE_VM, PVE_STORAGE_ISO, PVE_BRIDGE (defaults), L0_MIN_FREE_GIB_ISO, L0_MIN_FREE_PCT_VM (runway); each one\n' +
    'used is named on a line of its own (in --json: envFallbacks).',
  examples: [
    { command: 'ahl validate', description: 'validate the lab that holds the current directory' },
    { command: 'ahl validate --dir ~/lab', description: 'validate another lab' },
    { command: 'ahl validate --json | jq -r \'.errors[] | "\\(.file):\\(.line) \\(.message)"\'', description: 'machine-readable problems' },
  ],
  async run(ctx) {
    const { loadLab, formatDiagnostic, formatEnvFallback, plural } = await import('@ahl/core');
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
  },
};
