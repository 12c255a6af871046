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

/** The order kinds are listed (and drawn) in. */
export const KIND_ORDER: readonly GraphNodeKind[] = ['node', 'template', 'host', 'persona', 'stack'];

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
