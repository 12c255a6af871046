import { KIND_ORDER, type GraphNodeKind, type LabGraph } from '@ahl/ops';

/* `ahl graph` as Mermaid or Graphviz DOT: the same graph gives the same bytes. */

const safeId = (id: string) => id.replace(/[^A-Za-z0-9]/g, '_');
const quoted = (s: string) => s.replace(/"/g, '#quot;');

const MERMAID_SHAPE: Record<GraphNodeKind, [string, string]> = {
  node: ['[(', ')]'],
  template: ['{{', '}}'],
  host: ['[', ']'],
  persona: ['([', '])'],
  stack: ['[/', '/]'],
};

const MERMAID_STYLE: Record<GraphNodeKind, string> = {
  node: 'fill:#e8eef7,stroke:#4a6fa5',
  template: 'fill:#f4ecf7,stroke:#8e44ad',
  host: 'fill:#eaf5ea,stroke:#3c8d40',
  persona: 'fill:#fff6e0,stroke:#c08a00',
  stack: 'fill:#fdecea,stroke:#c0392b',
};

/** A Mermaid flowchart, left to right. Pure. */
export function renderMermaid(g: LabGraph): string {
  const lines = ['flowchart LR'];
  for (const n of g.nodes) {
    const [open, close] = MERMAID_SHAPE[n.kind];
    const label = n.detail ? `${n.label}<br/>${n.detail}` : n.label;
    lines.push(`  ${safeId(n.id)}${open}"${quoted(label)}"${close}`);
  }
  for (const e of g.edges) lines.push(`  ${safeId(e.from)} ${e.kind === 'clones' ? '-.->' : '-->'} ${safeId(e.to)}`);
  for (const kind of KIND_ORDER) {
    const ids = g.nodes.filter((n) => n.kind === kind).map((n) => safeId(n.id));
    if (!ids.length) continue;
    lines.push(`  classDef ahl_${kind} ${MERMAID_STYLE[kind]}`);
    lines.push(`  class ${ids.join(',')} ahl_${kind}`);
  }
  return `${lines.join('\n')}\n`;
}

const DOT_SHAPE: Record<GraphNodeKind, string> = { node: 'box3d', template: 'hexagon', host: 'box', persona: 'ellipse', stack: 'component' };
const dotEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
const dotString = (s: string) => `"${dotEscape(s)}"`;

/** A Graphviz digraph, left to right. Pure. */
export function renderDot(g: LabGraph, name = 'lab'): string {
  const lines = [`digraph ${dotString(name)} {`, '  rankdir=LR;', '  node [fontname="Helvetica"];'];
  for (const n of g.nodes) lines.push(`  ${dotString(n.id)} [label="${dotEscape(n.label)}${n.detail ? `\\n${dotEscape(n.detail)}` : ''}", shape=${DOT_SHAPE[n.kind]}];`);
  for (const e of g.edges) lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)}${e.kind === 'clones' ? ' [style=dashed]' : ''};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
