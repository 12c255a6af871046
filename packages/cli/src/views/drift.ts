import type { DriftReport } from '@ahl/ops';
import type { Style } from '../output.js';

/** The report for a person. Pure. */
export function renderDrift(r: DriftReport, style: (s: Style, t: string) => string): string {
  const lines: string[] = [];
  for (const l of r.layers) {
    const found = r.findings.filter((f) => f.layer === l.layer);
    const head = `${style('bold', `${l.layer} ${l.name}`)}`;
    if (!l.checked) {
      lines.push(`${head}  ${style('dim', `not checked: ${l.why}`)}`);
      continue;
    }
    const clean = l.hosts.length - new Set(found.map((f) => f.host)).size - l.unchecked.length;
    lines.push(`${head}  ${found.length ? style('yellow', `${found.length} drifted`) : style('green', 'no drift')}${clean > 0 && found.length ? style('dim', `, ${clean} clean`) : ''}${l.partial ? style('dim', ` (${l.partial})`) : ''}`);
    for (const f of found) {
      lines.push(`  ${style('yellow', '≠')} ${f.host}  ${style(f.cause === 'changed outside ahl' ? 'red' : 'cyan', f.cause)}`);
      for (const w of f.what) lines.push(`      ${w}`);
      lines.push(`      ${style('dim', 'reconcile:')} ${f.reconcile}`);
    }
    for (const u of l.unchecked) lines.push(`  ${style('red', '?')} ${u.host}  not checked: ${u.reason}`);
  }
  const n = r.findings.length;
  lines.push(
    r.clean
      ? style('green', 'no drift')
      : n
        ? style('yellow', `${n} finding${n === 1 ? '' : 's'}; nothing was changed`)
        : style('red', 'some hosts or layers could not be checked; nothing was changed'),
  );
  return `${lines.join('\n')}\n`;
}
