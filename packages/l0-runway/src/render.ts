import type { CheckStatus, RunwayReport } from './checks.js';

export type Colour = (style: 'green' | 'yellow' | 'red' | 'dim' | 'bold', text: string) => string;

/** The report as a table for a terminal. Pure; colour is applied by the given function. */
export function renderRunway(report: RunwayReport, colour: Colour = (_s, t) => t): string {
  const mark: Record<CheckStatus, string> = { PASS: colour('green', 'PASS'), WARN: colour('yellow', 'WARN'), FAIL: colour('red', 'FAIL') };
  const width = Math.max(...report.checks.map((c) => c.id.length), 5);
  const lines = [colour('bold', `runway ${report.lab} → ${report.endpoint}`)];
  for (const c of report.checks) {
    lines.push(`${mark[c.status]}  ${c.id.padEnd(width)}  ${c.reason}`);
    if (c.hint && c.status !== 'PASS') lines.push(`      ${' '.repeat(width)}  ${colour('dim', `→ ${c.hint}`)}`);
  }
  if (report.minimalRole) {
    lines.push('', colour('bold', 'A role with every privilege ahl needs:'));
    for (const cmd of report.minimalRole.commands) lines.push(`  ${cmd}`);
  }
  const s = report.summary;
  lines.push('', `${mark[report.status]} ${s.pass} passed, ${s.warn} warning${s.warn === 1 ? '' : 's'}, ${s.fail} failed`);
  return `${lines.join('\n')}\n`;
}

/** The report as the deterministic JSON artifact: no timestamps, stable order. */
export function runwayArtifact(report: RunwayReport): string {
  const { lab, endpoint, status, summary, checks, missingPrivileges, minimalRole } = report;
  return `${JSON.stringify({ lab, endpoint, status, summary, checks, missingPrivileges, ...(minimalRole ? { minimalRole } : {}) }, null, 2)}\n`;
}
