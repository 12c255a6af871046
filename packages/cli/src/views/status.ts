import { age, newest, type LayerSeen, type StatusReport } from '@ahl/ops';
import type { Style } from '../output.js';

function pad(rows: string[][], widths: number[]): string[] {
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(Math.max(0, widths[i]! - visible(c).length)))).join('  ').trimEnd());
}
// eslint-disable-next-line no-control-regex
const visible = (s: string) => s.replace(/\u001b\[\d+m/g, '');

/** The report as a table for a person. `style` colours (or not). Pure. */
export function renderStatus(r: StatusReport, style: (s: Style, t: string) => string): string {
  const lines: string[] = [];
  if (!r.api.ok) lines.push(style('yellow', `! the Proxmox API could not be asked (${r.api.error}); VM columns are unknown`));
  const layer = (s?: LayerSeen, check?: LayerSeen) => {
    const n = newest(s, check);
    if (!n) return style('dim', 'never');
    const isCheck = n === check;
    const word = isCheck ? (n.status === 'ok' ? 'clean' : n.status === 'changed' ? 'drift' : n.status) : n.status === 'changed' ? 'ok' : n.status;
    const colour: Style = word === 'ok' || word === 'clean' ? 'green' : word === 'drift' ? 'yellow' : 'red';
    return `${style(colour, word)} ${age(n.ageMs)}`;
  };
  const head = ['HOST', 'PERSONA', 'NODE', 'VM', 'TEMPLATE', 'SYSTEM', 'WORKLOAD', 'BACKUP', 'DRIFT'];
  const rows = r.hosts.map((h) => {
    const vm = h.runtime === 'baremetal' ? style('dim', 'bare metal') : !r.api.ok ? style('dim', '?') : h.vm ? `${h.vm.vmid} ${h.vm.power === 'running' ? style('green', 'running') : style('yellow', h.vm.power)}` : style('red', 'missing');
    const t = h.template;
    const tpl = !t
      ? style('dim', '-')
      : t.state === 'current' ? style('green', t.version!) : t.state === 'behind' ? style('yellow', `${t.version} → ${t.channelVersion}`) : t.state === 'unbuilt' ? style('red', `${t.ref} unbuilt`) : style('dim', t.channelVersion ? `? (${t.channelVersion})` : '?');
    const backup = !h.backup ? style('dim', '-') : h.backup.ageMs === undefined ? style('red', h.backup.seenAt ? 'none' : 'unknown') : style(h.backup.fresh ? 'green' : 'red', `${age(h.backup.ageMs)}${h.backup.fresh ? '' : ` > ${h.backup.maxAge}`}`);
    const node = h.vm && h.vm.node !== h.node ? style('yellow', `${h.vm.node} (intent ${h.node})`) : (h.node ?? style('dim', '-'));
    const sys = h.layers.system ? layer(h.system, h.systemCheck) : style('dim', '-');
    const work = h.layers.workload ? layer(h.workload, h.workloadCheck) : style('dim', '-');
    return [h.host, h.persona, node, vm, tpl, sys, work, backup, h.drift.length ? style('yellow', h.drift.join(',')) : style('green', 'none')];
  });
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((row) => visible(row[i]!).length)));
  lines.push(...pad([head.map((x) => style('bold', x)), ...rows], widths));
  for (const u of r.unmanaged) lines.push(style('yellow', `! ${u.name || '(no name)'} (vmid ${u.vmid} on ${u.node}, ${u.power}) is tagged ahl but no host declares it`));
  const drifting = r.hosts.filter((h) => h.drift.length).length;
  lines.push(style('dim', `${r.hosts.length} hosts, ${drifting} need attention · ${r.calls} API call${r.calls === 1 ? '' : 's'} · ${r.at}`));
  return `${lines.join('\n')}\n`;
}
