import type { Change, DiffAction, LabDiff } from '@ahl/ops';
import type { Style } from '../output.js';

/* `ahl diff` for a person in a terminal and as a pull-request comment. */

const show = (v: unknown) => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

/** One change in a line: `resources.memory: 8192 → 12288`. */
export function describeChange(c: Change): string {
  const value = c.before === undefined && c.after === undefined ? '' : c.before === undefined ? `: + ${show(c.after)}` : c.after === undefined ? `: − ${show(c.before)}` : `: ${show(c.before)} → ${show(c.after)}`;
  return `${c.path}${value}`;
}

const ACTION_WORD: Record<DiffAction, string> = { create: 'create', destroy: 'destroy', replace: 'replace', update: 'update in place', rebuild: 'rebuild', converge: 'converge' };

/** The diff for a person in a terminal. Pure. */
export function renderDiff(d: LabDiff, style: (s: Style, t: string) => string): string {
  const lines: string[] = [style('bold', `intent ${d.base} → ${d.head}`)];
  if (!d.lab.length && !d.images.length && !d.hosts.length) return `${lines[0]}\n${style('green', 'no changes')}\n`;
  const line = (c: Change) => `    ${c.danger ? style('red', '!') : ' '} ${style('dim', c.layer.padEnd(6))} ${describeChange(c)}  ${style(c.danger ? 'red' : 'cyan', ACTION_WORD[c.action])}${c.note ? style('dim', ` (${c.note})`) : ''}`;
  if (d.lab.length) {
    lines.push('  lab.yaml');
    lines.push(...d.lab.map(line));
  }
  for (const i of d.images) {
    lines.push(`  image ${i.image} (${i.status})`);
    lines.push(...i.changes.map(line));
  }
  for (const h of d.hosts) {
    const mark = h.status === 'added' ? style('green', '+') : h.status === 'removed' ? style('red', '−') : style('yellow', '~');
    lines.push(`  ${mark} ${h.host} ${style('dim', `(${h.persona})`)}`);
    lines.push(...h.changes.map(line));
  }
  const c = d.counts;
  lines.push(`${c.added} added, ${c.changed} changed, ${c.removed} removed${c.dangerous ? style('red', ` · ${c.dangerous} with dangerous changes`) : ''}`);
  return `${lines.join('\n')}\n`;
}

/** Text for a Markdown table cell: pipes escaped. */
export const md = (s: string) => s.replace(/\|/g, '\\|');

/** The diff as a pull-request comment: counts, dangerous changes first, then a table per host. Pure. */
export function renderDiffMarkdown(d: LabDiff): string {
  const out: string[] = [`### ahl: intent \`${d.base}\` → \`${d.head}\``, ''];
  const c = d.counts;
  if (!d.lab.length && !d.images.length && !d.hosts.length) return `${out.join('\n')}No changes.\n`;
  out.push(`**${c.added} added · ${c.changed} changed · ${c.removed} removed**${c.dangerous ? ` · ⚠️ **${c.dangerous} with dangerous changes**` : ''}`, '');
  const dangers = d.hosts.flatMap((h) => h.changes.filter((x) => x.danger).map((x) => ({ host: h.host, change: x })));
  if (dangers.length) {
    out.push('#### ⚠️ Dangerous', '');
    for (const { host, change } of dangers) out.push(`- **${host}**: ${change.danger} — \`${md(describeChange(change))}\`${change.note ? ` (${change.note})` : ''}`);
    out.push('');
  }
  const table = (rows: { who: string; change: Change }[]) => {
    out.push('| | layer | change | action |', '|---|---|---|---|');
    for (const r of rows) out.push(`| ${r.who} | ${r.change.layer} | \`${md(describeChange(r.change))}\` | ${ACTION_WORD[r.change.action]}${r.change.danger ? ' ⚠️' : ''} |`);
    out.push('');
  };
  if (d.lab.length || d.images.length) {
    out.push('#### Lab and images', '');
    table([...d.lab.map((change) => ({ who: 'lab.yaml', change })), ...d.images.flatMap((i) => i.changes.map((change) => ({ who: `image ${i.image}`, change })))]);
  }
  if (d.hosts.length) {
    out.push('#### Hosts', '');
    table(d.hosts.flatMap((h) => h.changes.map((change, i) => ({ who: i === 0 ? `${h.status === 'added' ? '➕' : h.status === 'removed' ? '➖' : '✏️'} **${h.host}**` : '', change }))));
  }
  return `${out.join('\n').trimEnd()}\n`;
}
