import type { RebuildPlan } from '@ahl/ops';

/** The plan for a person: the phases, numbered, done ones marked. Pure. */
export function renderRebuildPlan(p: RebuildPlan, resume: boolean, style: (s: 'green' | 'yellow' | 'red' | 'dim' | 'bold', t: string) => string = (_s, t) => t): string {
  const lines = [style('bold', `ahl rebuild ${p.host}${resume ? ' (resuming)' : ''}`)];
  p.phases.forEach((x, i) => lines.push(`  ${x.done ? style('green', '✓') : `${i + 1}.`} ${x.phase.padEnd(8)} ${x.done ? style('dim', `${x.what} (done)`) : x.what}`));
  if (p.data.kind === 'take') lines.push(style('yellow', `  the last good backup is not fresh enough (${p.data.why}): one is taken before anything is destroyed`));
  return `${lines.join('\n')}\n`;
}
