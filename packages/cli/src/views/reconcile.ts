import type { ReconcileOutcome, ReconcileReport } from '@ahl/ops';
import type { Style } from '../output.js';

/** For a person. Pure. */
export function renderReconcile(r: ReconcileReport, style: (s: Style, t: string) => string): string {
  const lines: string[] = [];
  if (r.steps.length === 0 && r.unchecked.length === 0) return `${style('green', 'no drift: nothing to reconcile')}\n`;
  for (const s of r.steps) {
    const verb = !s.safe ? style('yellow', 'awaits approval') : r.applied ? style('cyan', 'made') : style('cyan', 'would run');
    lines.push(`${style('bold', s.layer)} ahl ${s.command} ${s.hosts.join(' ')}  ${verb}  ${style('dim', s.why)}`);
  }
  for (const o of r.outcomes) {
    const mark = o.result === 'reconciled' ? style('green', '✓') : o.result === 'failed' ? style('red', '✗') : style('yellow', '…');
    lines.push(`  ${mark} ${o.host} ${o.layer}  ${o.result}${o.detail ? style('dim', `: ${o.detail}`) : ''}`);
  }
  for (const u of r.unchecked) lines.push(`  ${style('red', '?')} ${u.host} ${u.layer}  not checked: ${u.reason}`);
  const count = (x: ReconcileOutcome['result']) => r.outcomes.filter((o) => o.result === x).length;
  lines.push(
    !r.applied
      ? style('yellow', 'plan only (--plan): nothing was changed')
      : r.clean
        ? style('green', `reconciled ${count('reconciled')}`)
        : style('yellow', `reconciled ${count('reconciled')}, awaiting approval ${count('awaiting approval')}, failed ${count('failed')}, not checked ${r.unchecked.length}`),
  );
  return `${lines.join('\n')}\n`;
}
