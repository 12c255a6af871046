import { readHostStates, readImageRecords, type Host, type HostState, type ImageRecords, type Lab, type LayerRun, type ProxmoxClient } from '@ahl/core';
import { guestOf, serverGuests, type ServerTemplate } from '@ahl/l1-image';
import { systemHosts } from '@ahl/l3-system';
import { backsUp, durationMs, workloadHosts } from '@ahl/l4-workload';

/*
 * `ahl status`: the whole lab at a glance from one Proxmox API call (/cluster/resources) plus what
 * this machine remembers (template records, the last converges, checks and backups seen). The
 * builder is pure; gatherStatus is the only part that reads or calls anything.
 */

export type TemplateState = 'current' | 'behind' | 'unknown' | 'unbuilt';
export type DriftFlag = 'missing' | 'node' | 'template' | 'system' | 'workload' | 'backup';

export interface LayerSeen {
  readonly status: LayerRun['status'];
  readonly at: string;
  readonly ageMs: number;
  readonly changed: readonly string[];
}

export interface HostStatus {
  readonly host: string;
  readonly persona: string;
  readonly runtime: 'vm' | 'baremetal';
  /** The node intent places the VM on; absent for bare metal. */
  readonly node?: string;
  /** Which of L3 and L4 manage the host. */
  readonly layers: { readonly system: boolean; readonly workload: boolean };
  /** The VM on the server, matched by name (and vmid when the host declares one); absent when missing. */
  readonly vm?: { readonly vmid: number; readonly node: string; readonly power: string };
  /** Absent for bare metal, which follows no template. */
  readonly template?: {
    readonly ref: string;
    /** The template version the VM was cloned from (its tpl-… tag), when known. */
    readonly version?: string;
    /** The version the host's channel points at now. */
    readonly channelVersion?: string;
    readonly state: TemplateState;
  };
  readonly system?: LayerSeen;
  readonly workload?: LayerSeen;
  /** The last --check of each layer. */
  readonly systemCheck?: LayerSeen;
  readonly workloadCheck?: LayerSeen;
  /** Present for hosts with data to back up. */
  readonly backup?: { readonly maxAge: string; readonly fresh: boolean; readonly ageMs?: number; readonly id?: string; readonly seenAt?: string; readonly failed?: string };
  readonly drift: readonly DriftFlag[];
}

export interface StatusReport {
  readonly lab: string;
  readonly at: string;
  /** Proxmox API calls made. */
  readonly calls: number;
  readonly api: { readonly ok: boolean; readonly error?: string };
  readonly hosts: readonly HostStatus[];
  /** Guests tagged `ahl` that no host of the lab declares. */
  readonly unmanaged: readonly { readonly vmid: number; readonly name: string; readonly node: string; readonly power: string }[];
}

export interface StatusInput {
  readonly lab: Lab;
  /** Undefined when the API could not be asked. */
  readonly guests?: readonly ServerTemplate[];
  readonly records: ReadonlyMap<string, ImageRecords>;
  readonly states: ReadonlyMap<string, HostState>;
  readonly now: Date;
  readonly calls: number;
  readonly apiError?: string;
}

function seen(run: LayerRun | undefined, now: Date): LayerSeen | undefined {
  return run ? { status: run.status, at: run.at, ageMs: now.getTime() - Date.parse(run.at), changed: run.changed } : undefined;
}

/** The later of a converge and a check of one layer. */
export function newest(run?: LayerSeen, check?: LayerSeen): LayerSeen | undefined {
  return run && check ? (run.at >= check.at ? run : check) : (run ?? check);
}

function templateOf(h: Host, vm: ServerTemplate | undefined, records: ReadonlyMap<string, ImageRecords>): HostStatus['template'] {
  const rec = records.get(h.template.image);
  const channelVersion = rec ? (rec.channels.channels as Partial<Record<string, string>>)[h.template.channel] : undefined;
  const fromTag = vm?.tags.find((t) => t.startsWith('tpl-'))?.slice(4);
  const version = fromTag ? rec?.manifests.find((m) => m.templateName === fromTag)?.version : undefined;
  const state: TemplateState = !channelVersion ? 'unbuilt' : !version ? 'unknown' : version === channelVersion ? 'current' : 'behind';
  return { ref: h.template.ref, ...(version ? { version } : {}), ...(channelVersion ? { channelVersion } : {}), state };
}

/** The status of every host of the lab, in the lab's host order. Pure. */
export function buildStatus(input: StatusInput): StatusReport {
  const { lab, guests, records, states, now } = input;
  const vms = (guests ?? []).filter((g) => !g.template);
  const declared = new Set(lab.hosts.map((h) => h.name));
  const l3 = new Set(systemHosts(lab).map((h) => h.name));
  const l4 = new Set(workloadHosts(lab).map((h) => h.name));
  const hosts = lab.hosts.map((h): HostStatus => {
    const metal = h.runtime === 'baremetal';
    const vm = metal ? undefined : guestOf(h, vms);
    const st = states.get(h.name);
    const template = metal ? undefined : templateOf(h, vm, records);
    let backup: HostStatus['backup'];
    if (backsUp(h)) {
      const maxAge = h.backup?.maxAge ?? '26h';
      const last = st?.backup?.last;
      const ageMs = last ? now.getTime() - Date.parse(last.time) : undefined;
      backup = {
        maxAge,
        fresh: ageMs !== undefined && ageMs <= durationMs(maxAge),
        ...(ageMs !== undefined ? { ageMs, id: last!.id } : {}),
        ...(st?.backup ? { seenAt: st.backup.at } : {}),
        ...(st?.backup?.failed ? { failed: st.backup.failed } : {}),
      };
    }
    const system = seen(st?.system, now);
    const workload = seen(st?.workload, now);
    const systemCheck = seen(st?.systemCheck, now);
    const workloadCheck = seen(st?.workloadCheck, now);
    // A layer needs attention when its newest run failed, or was a check that found drift.
    const unclean = (run?: LayerSeen, check?: LayerSeen) => {
      const n = newest(run, check);
      return n !== undefined && (n.status === 'failed' || n.status === 'unreachable' || (n === check && n.status === 'changed'));
    };
    const drift: DriftFlag[] = [];
    if (guests && !vm && !metal) drift.push('missing');
    if (vm && vm.node !== h.node) drift.push('node');
    if (template?.state === 'behind') drift.push('template');
    if (unclean(system, systemCheck)) drift.push('system');
    if (unclean(workload, workloadCheck)) drift.push('workload');
    if (backup && !backup.fresh) drift.push('backup');
    return {
      host: h.name,
      persona: h.persona,
      runtime: h.runtime,
      ...(h.node ? { node: h.node } : {}),
      layers: { system: l3.has(h.name), workload: l4.has(h.name) },
      ...(vm ? { vm: { vmid: vm.vmid, node: vm.node, power: vm.status } } : {}),
      ...(template ? { template } : {}),
      ...(system ? { system } : {}),
      ...(workload ? { workload } : {}),
      ...(systemCheck ? { systemCheck } : {}),
      ...(workloadCheck ? { workloadCheck } : {}),
      ...(backup ? { backup } : {}),
      drift,
    };
  });
  const unmanaged = vms
    .filter((g) => g.tags.includes('ahl') && !declared.has(g.name))
    .map((g) => ({ vmid: g.vmid, name: g.name, node: g.node, power: g.status }))
    .sort((a, b) => a.vmid - b.vmid);
  return {
    lab: lab.name,
    at: now.toISOString(),
    calls: input.calls,
    api: input.apiError === undefined ? { ok: true } : { ok: false, error: input.apiError },
    hosts,
    unmanaged,
  };
}

/**
 * Reads the lab's records and this machine's state, and asks Proxmox once for every guest. An API
 * that cannot be asked (unreachable, refused) still gives a report, from local state only.
 */
export async function gatherStatus(lab: Lab, connect: () => Promise<ProxmoxClient>, now = new Date()): Promise<StatusReport> {
  const records = new Map<string, ImageRecords>();
  for (const image of Object.keys(lab.images)) records.set(image, await readImageRecords(lab.recordsRoot, image));
  const states = await readHostStates(lab.root);
  let guests: ServerTemplate[] | undefined;
  let apiError: string | undefined;
  let calls = 0;
  try {
    const c = await connect();
    try {
      const before = c.callCount;
      guests = await serverGuests(c);
      calls = c.callCount - before;
    } finally {
      await c.close();
    }
  } catch (e) {
    apiError = (e as Error).message;
  }
  return buildStatus({ lab, ...(guests ? { guests } : {}), records, states, now, calls, ...(apiError !== undefined ? { apiError } : {}) });
}
