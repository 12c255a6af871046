import type { UpState, UpStep } from '@ahl/ops';
import { md } from './diff.js';

const MARK: Record<UpState, string> = { done: '✓', ok: '✓', planned: '→', failed: '✗', blocked: '✗', 'not run': '·' };

/** The run's summary: a line per layer, its items under it. Pure. */
export function renderUp(steps: readonly UpStep[], approved: boolean, style: (s: 'green' | 'yellow' | 'red' | 'dim' | 'cyan' | 'bold', t: string) => string = (_s, t) => t): string {
  const colour: Record<UpState, 'green' | 'yellow' | 'red' | 'dim' | 'cyan'> = { done: 'green', ok: 'green', planned: 'cyan', failed: 'red', blocked: 'red', 'not run': 'dim' };
  const lines: string[] = [style('bold', approved ? 'ahl up' : 'ahl up: the plan (nothing was changed; --approve to apply)')];
  for (const s of steps) {
    lines.push(`${style(colour[s.state], MARK[s.state])} ${s.layer} ${s.name.padEnd(9)} ${style(colour[s.state], s.state)}`);
    for (const i of s.items) lines.push(`    ${i}`);
    if (s.note) lines.push(style(s.state === 'failed' || s.state === 'blocked' ? 'red' : 'dim', `    ${s.note}`));
  }
  const stop = steps.find((s) => s.state === 'failed' || s.state === 'blocked');
  if (approved)
    lines.push(
      stop
        ? style('red', `stopped at ${stop.layer} ${stop.name}${steps.some((s) => s.state === 'not run') ? '; the layers after it were not run' : ''}`)
        : style('green', 'every layer is done: `ahl status` shows the hosts'),
    );
  return `${lines.join('\n')}\n`;
}

/**
 * The same as Markdown, for a pull-request comment: what needs attention (a failed or blocked layer)
 * first, then a row per layer. Pure.
 */
export function renderUpMarkdown(lab: string, steps: readonly UpStep[], approved: boolean, target?: string): string {
  const out: string[] = [`### ahl ${approved ? 'up' : 'plan'}: \`${lab}\`${target ? ` (${target})` : ''}`, ''];
  const count = (state: UpState) => steps.filter((s) => s.state === state).length;
  const summary = (['planned', 'done', 'blocked', 'failed', 'not run'] as const).filter((s) => count(s)).map((s) => `${count(s)} ${s}`);
  out.push(`**${summary.length ? summary.join(' · ') : 'nothing to do'}**${approved ? '' : ' — nothing was changed; `ahl up --approve` applies it'}`, '');
  const attention = steps.filter((s) => s.state === 'failed' || s.state === 'blocked');
  if (attention.length) {
    out.push('#### ⚠️ Needs attention', '');
    for (const s of attention) out.push(`- **${s.layer} ${s.name}**: ${s.state}${s.note ? ` — ${md(s.note)}` : ''}`);
    out.push('');
  }
  out.push('| layer | state | what |', '|---|---|---|');
  for (const s of steps) out.push(`| ${s.layer} ${s.name} | ${MARK[s.state]} ${s.state} | ${s.items.map(md).join('<br>')} |`);
  return `${out.join('\n')}\n`;
}
