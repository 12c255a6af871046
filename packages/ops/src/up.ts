import type { Host, Lab } from '@ahl/core';
import type { StatusReport } from './status.js';

/*
 * `ahl up`: the layers in order, L0 → L1 → L2 → L3 → L4, for the hosts a target selects. The plan
 * is pure: from the lab and one status read (which VMs exist, which template channels are built)
 * it says what each layer has to do. The command runs it, stopping at the first layer that fails.
 */

export type UpLayer = 'L0' | 'L1' | 'L2' | 'L3' | 'L4';
export const UP_LAYERS: readonly { readonly layer: UpLayer; readonly name: string }[] = [
  { layer: 'L0', name: 'runway' },
  { layer: 'L1', name: 'images' },
  { layer: 'L2', name: 'instances' },
  { layer: 'L3', name: 'system' },
  { layer: 'L4', name: 'workload' },
];

/**
 * What became of a layer: `done` (it acted), `ok` (nothing to do, or only checked), `planned`
 * (without --approve: what it would do), `failed`, `blocked` (this version cannot do it), or
 * `not run` (an earlier layer stopped the run, or Ctrl-C).
 */
export type UpState = 'done' | 'ok' | 'planned' | 'failed' | 'blocked' | 'not run';

export interface UpStep {
  readonly layer: UpLayer;
  readonly name: string;
  readonly state: UpState;
  /** One line per thing the layer did or would do. */
  readonly items: readonly string[];
  /** Why it failed or is blocked, and what to do. */
  readonly note?: string;
}

export interface UpPlan {
  /** Templates to make: a cloud image is built, an appliance restored from its newest capture. */
  readonly images: readonly { readonly image: string; readonly kind: 'cloud' | 'appliance'; readonly channels: readonly string[]; readonly hosts: readonly string[] }[];
  /** VM hosts with no VM on the server. */
  readonly create: readonly string[];
  /** VM hosts whose VM exists, with where it is. */
  readonly existing: readonly { readonly host: string; readonly vmid: number; readonly node: string; readonly power: string }[];
  /** Existing VMs with passthrough disks to converge. */
  readonly passthrough: readonly string[];
  /** L3 and L4 hosts that can be reached now (their VM exists, or bare metal), and those waiting for L2. */
  readonly system: readonly string[];
  readonly systemLater: readonly string[];
  readonly workload: readonly string[];
  readonly workloadLater: readonly string[];
  /** Hosts whose VM this run created: L3 waits for their first boot before it converges them. */
  readonly fresh?: readonly string[];
}

/** What each layer has to do for the selected hosts. Pure. */
export function planUp(lab: Lab, selected: readonly Host[], status: StatusReport, layers: { system: readonly Host[]; workload: readonly Host[] }): UpPlan {
  const byHost = new Map(status.hosts.map((h) => [h.host, h]));
  const images = new Map<string, { channels: Set<string>; hosts: string[] }>();
  const create: string[] = [];
  const existing: { host: string; vmid: number; node: string; power: string }[] = [];
  for (const h of selected) {
    if (h.runtime !== 'vm') continue;
    const s = byHost.get(h.name);
    if (s?.template?.state === 'unbuilt') {
      const e = images.get(h.template.image) ?? { channels: new Set<string>(), hosts: [] };
      e.channels.add(h.template.channel);
      e.hosts.push(h.name);
      images.set(h.template.image, e);
    }
    if (s?.vm) existing.push({ host: h.name, ...s.vm });
    else create.push(h.name);
  }
  const names = new Set(selected.map((h) => h.name));
  const reachable = (h: Host) => h.runtime === 'baremetal' || existing.some((e) => e.host === h.name);
  const split = (hosts: readonly Host[]) => {
    const mine = hosts.filter((h) => names.has(h.name));
    return [mine.filter(reachable).map((h) => h.name), mine.filter((h) => !reachable(h)).map((h) => h.name)] as const;
  };
  const [system, systemLater] = split(layers.system);
  const [workload, workloadLater] = split(layers.workload);
  return {
    images: [...images].sort(([a], [b]) => a.localeCompare(b)).map(([image, e]) => ({ image, kind: lab.images[image]?.kind ?? 'cloud', channels: [...e.channels].sort(), hosts: e.hosts })),
    create,
    existing,
    passthrough: selected.filter((h) => h.passthrough.length > 0 && existing.some((e) => e.host === h.name)).map((h) => h.name),
    system,
    systemLater,
    workload,
    workloadLater,
  };
}

/** A host's result from L3 or L4, as up reads it. */
export interface AnsibleHost {
  readonly host: string;
  readonly status: 'ok' | 'changed' | 'failed' | 'unreachable';
  readonly changed: readonly unknown[];
  readonly unreachable?: string;
  readonly failed?: readonly { readonly task: string; readonly message: string }[];
  /** L3 left the host alone: nothing changed since its last converge. */
  readonly unchanged?: boolean;
}

/**
 * Why a host failed, in a line: which machine SSH could not reach (the host, or one a task is
 * delegated to, like the backup host) and SSH's own words, or the first failed task. Pure.
 */
export function hostTrouble(h: AnsibleHost): string | undefined {
  const cut = (t: string) => (t.length > 160 ? `${t.slice(0, 157)}…` : t);
  if (h.status === 'unreachable' && h.unreachable) {
    const m = /remote host "([^"]+)".*ssh: (.*)$/s.exec(h.unreachable);
    return cut(m ? `${m[1]}: ${m[2]!.trim()}` : h.unreachable.trim());
  }
  const f = h.status === 'failed' ? h.failed?.[0] : undefined;
  return f ? cut(`${f.task}: ${f.message.split('\n')[0]!.trim()}`) : undefined;
}
