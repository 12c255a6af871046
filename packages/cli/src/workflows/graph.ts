import type { Lab } from '@ahl/core';

/*
 * `ahl graph`: the lab as a diagram. Proxmox nodes → hosts → personas → stacks, and templates (an
 * image's channel) → the hosts cloned from them. Pure and deterministic: the same lab gives the
 * same bytes, so a diagram committed beside the lab changes only when the lab does.
 */

export type GraphNodeKind = 'node' | 'host' | 'persona' | 'stack' | 'template';

export interface GraphNode {
  readonly id: string;
  readonly kind: GraphNodeKind;
  readonly label: string;
  /** A second line: a host's address, an appliance's kind. */
  readonly detail?: string;
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: 'runs' | 'is' | 'deploys' | 'clones';
}

export interface LabGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

const KIND_ORDER: readonly GraphNodeKind[] = ['node', 'template', 'host', 'persona', 'stack'];

/** The lab's graph, optionally only around some hosts. Pure. */
export function buildGraph(lab: Lab, hosts: readonly string[] = lab.hosts.map((h) => h.name)): LabGraph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const add = (n: GraphNode) => nodes.set(n.id, n);
  const link = (e: GraphEdge) => edges.set(`${e.from}>${e.to}`, e);
  for (const h of lab.hosts.filter((x) => hosts.includes(x.name))) {
    const host = `host:${h.name}`;
    const node = h.node ? `node:${h.node}` : 'node:(bare metal)';
    add({ id: node, kind: 'node', label: h.node ?? 'bare metal' });
    add({ id: host, kind: 'host', label: h.name, ...(h.ip ? { detail: h.ip.address } : h.kind === 'appliance' ? { detail: 'appliance' } : {}) });
    add({ id: `persona:${h.persona}`, kind: 'persona', label: h.persona });
    link({ from: node, to: host, kind: 'runs' });
    if (h.runtime === 'vm') {
      add({ id: `template:${h.template.ref}`, kind: 'template', label: h.template.ref });
      link({ from: `template:${h.template.ref}`, to: host, kind: 'clones' });
    }
    link({ from: host, to: `persona:${h.persona}`, kind: 'is' });
    for (const w of h.workloads) {
      add({ id: `stack:${w.stack}`, kind: 'stack', label: w.stack });
      link({ from: `persona:${h.persona}`, to: `stack:${w.stack}`, kind: 'deploys' });
    }
  }
  const byKind = (a: GraphNode, b: GraphNode) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || (a.id < b.id ? -1 : 1);
  return {
    nodes: [...nodes.values()].sort(byKind),
    edges: [...edges.values()].sort((a, b) => (a.from === b.from ? (a.to < b.to ? -1 : 1) : a.from < b.from ? -1 : 1)),
  };
}

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
