import type { Host, Lab } from '@ahl/core';

/*
 * `ahl diff`: what changes in intent between two resolved labs, per host and per layer, and what
 * each change would make ahl do. Pure: the two labs (and their stack digests) are given; reading
 * them from Git refs is labAt's (git-lab.ts). Dangerous changes (destroy, replace, data at risk) are
 * flagged so a review sees them first.
 */

export type DiffLayer = 'lab' | 'L1' | 'L2' | 'L3' | 'L4' | 'backup';
export type DiffAction = 'create' | 'destroy' | 'replace' | 'update' | 'rebuild' | 'converge';
export type Danger = 'destroy' | 'replace' | 'data at risk';

export interface Change {
  readonly layer: DiffLayer;
  /** The field, dotted (e.g. resources.memory, system.packages, workloads.whoami.env.PORT). */
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
  readonly action: DiffAction;
  readonly danger?: Danger;
  /** Why it is dangerous, or what the action means here. */
  readonly note?: string;
}

export interface HostDiff {
  readonly host: string;
  readonly persona: string;
  readonly status: 'added' | 'removed' | 'changed';
  readonly changes: readonly Change[];
}

export interface ImageDiff {
  readonly image: string;
  readonly status: 'added' | 'removed' | 'changed';
  readonly changes: readonly Change[];
}

export interface LabDiff {
  readonly base: string;
  readonly head: string;
  readonly lab: readonly Change[];
  readonly images: readonly ImageDiff[];
  readonly hosts: readonly HostDiff[];
  readonly counts: { readonly added: number; readonly removed: number; readonly changed: number; readonly dangerous: number };
}

export interface DiffSide {
  readonly lab: Lab;
  /** Digest of each stack folder's files, by stack name. */
  readonly stackDigests: ReadonlyMap<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Field-level differences between two JSON values, as dotted paths; arrays compare whole. Pure. */
export function fieldChanges(a: unknown, b: unknown, path = ''): { path: string; before?: unknown; after?: unknown }[] {
  if (same(a, b)) return [];
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => fieldChanges(a[k], b[k], path ? `${path}.${k}` : k));
  }
  return [{ path, ...(a === undefined ? {} : { before: a }), ...(b === undefined ? {} : { after: b }) }];
}

// What a change to each VM field makes L2 do: a new VM (replace), or an update in place.
const REPLACE_FIELDS = [/^runtime$/, /^node$/, /^vmid$/, /^kind$/, /^disk\.(datastore|interface)$/];

function vmChange(c: { path: string; before?: unknown; after?: unknown }): Change {
  if (c.path === 'resources.disk' && typeof c.before === 'number' && typeof c.after === 'number' && c.after < c.before)
    return { layer: 'L2', ...c, action: 'replace', danger: 'replace', note: 'a disk cannot shrink: the VM is recreated' };
  if (REPLACE_FIELDS.some((r) => r.test(c.path))) return { layer: 'L2', ...c, action: 'replace', danger: 'replace', note: 'the VM is recreated' };
  return { layer: 'L2', ...c, action: 'update' };
}

/** Passthrough disks by slot: attached by `ahl passthrough`, never detached by it. */
function passthroughChanges(a: Host, b: Host): Change[] {
  const before = new Map(a.passthrough.map((d) => [d.slot, d]));
  const after = new Map(b.passthrough.map((d) => [d.slot, d]));
  return [...new Set([...before.keys(), ...after.keys()])].sort().flatMap((slot): Change[] => {
    const x = before.get(slot);
    const y = after.get(slot);
    const path = `passthrough.${slot}`;
    if (!x) return [{ layer: 'L2', path, after: y!.device, action: 'update', note: 'attached by `ahl passthrough --approve`' }];
    if (!y) return [{ layer: 'L2', path, before: x.device, action: 'update', note: 'ahl never detaches a disk: it stays attached, reported, until detached by hand' }];
    if (x.device !== y.device) return [{ layer: 'L2', path, before: x.device, after: y.device, action: 'update', note: 'the slot holds the old disk: `ahl passthrough` reports a conflict until it is swapped by hand' }];
    return fieldChanges(x.options, y.options, `${path}.options`).map((c): Change => ({ layer: 'L2', ...c, action: 'update', note: 'set in place' }));
  });
}

/** The backed-up and not backed-up data directories of a host's stacks. */
function dataDirs(h: Host): { backedUp: string[]; notBackedUp: string[] } {
  const all = h.workloads.flatMap((w) => w.data);
  return { backedUp: all.filter((d) => d.backup).map((d) => d.path), notBackedUp: all.filter((d) => !d.backup).map((d) => d.path) };
}

function workloadChanges(a: Host, b: Host, sa: DiffSide, sb: DiffSide): Change[] {
  const out: Change[] = [];
  const before = new Map(a.workloads.map((w) => [w.stack, w]));
  const after = new Map(b.workloads.map((w) => [w.stack, w]));
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const wa = before.get(name);
    const wb = after.get(name);
    if (!wa) out.push({ layer: 'L4', path: `workloads.${name}`, after: name, action: 'create', note: 'the stack is deployed' });
    else if (!wb) {
      const data = wa.data.map((d) => d.path);
      out.push({
        layer: 'L4',
        path: `workloads.${name}`,
        before: name,
        action: 'destroy',
        danger: 'destroy',
        note: `the stack is removed with \`ahl converge workload --approve\`${data.length ? `; its data stays on the host (${data.join(', ')})` : ''}`,
      });
    } else {
      for (const c of fieldChanges({ env: wa.env, data: wa.data }, { env: wb.env, data: wb.data }, `workloads.${name}`)) out.push({ layer: 'L4', ...c, action: 'converge' });
      const da = sa.stackDigests.get(name);
      const db = sb.stackDigests.get(name);
      if (da !== db) out.push({ layer: 'L4', path: `stacks/${name}/`, action: 'converge', note: 'its files changed: the stack is redeployed' });
    }
  }
  return out;
}

function hostChanges(a: Host, b: Host, sa: DiffSide, sb: DiffSide): Change[] {
  const changes: Change[] = [];
  if (a.template.ref !== b.template.ref && b.runtime === 'vm') changes.push({ layer: 'L1', path: 'template', before: a.template.ref, after: b.template.ref, action: 'rebuild', note: 'the VM follows the new template when rebuilt (`ahl rebuild`)' });
  const vm = (h: Host) => ({ runtime: h.runtime, kind: h.kind, node: h.node, vmid: h.vmid, mac: h.mac, ip: h.ip?.cidr, gateway: h.gateway, dns: h.dns, searchDomain: h.searchDomain, resources: h.resources, network: h.network, disk: h.disk, onBoot: h.onBoot, tags: h.tags, description: h.description });
  changes.push(...fieldChanges(vm(a), vm(b)).map(vmChange));
  changes.push(...passthroughChanges(a, b));
  changes.push(...fieldChanges({ system: a.system, groups: a.groups }, { system: b.system, groups: b.groups }).map((c): Change => ({ layer: 'L3', ...c, action: 'converge' })));
  changes.push(...workloadChanges(a, b, sa, sb));
  changes.push(...fieldChanges({ backup: a.backup }, { backup: b.backup }).map((c): Change => ({ layer: 'backup', ...c, action: 'converge' })));
  // A recreated VM loses what is on its disk: say which data comes back from backups and which does not.
  if (changes.some((c) => c.action === 'replace')) {
    const { notBackedUp } = dataDirs(a);
    if (notBackedUp.length) changes.push({ layer: 'L4', path: 'data', before: notBackedUp, action: 'replace', danger: 'data at risk', note: `not backed up, lost with the VM: ${notBackedUp.join(', ')}` });
  }
  return changes;
}

/** Every change of intent from `base` to `head`. Pure. */
export function diffLabs(base: DiffSide, head: DiffSide, names: { base: string; head: string }): LabDiff {
  const a = base.lab;
  const b = head.lab;
  const strip = (l: Lab) => ({ ...l.config, name: l.name });
  const lab = fieldChanges(strip(a), strip(b)).map((c): Change => ({ layer: 'lab', ...c, action: 'update' }));
  const images = [...new Set([...Object.keys(a.images), ...Object.keys(b.images)])].sort().flatMap((name): ImageDiff[] => {
    const ia = a.images[name];
    const ib = b.images[name];
    if (!ia) return [{ image: name, status: 'added', changes: [{ layer: 'L1', path: `images.${name}`, after: name, action: 'create', note: '`ahl image build` makes its template' }] }];
    if (!ib) return [{ image: name, status: 'removed', changes: [{ layer: 'L1', path: `images.${name}`, before: name, action: 'destroy', note: 'its templates are left; `ahl image prune` removes unused ones' }] }];
    const strip = (i: typeof ia) => ({ ...i, file: undefined, name: undefined });
    const cs = fieldChanges(strip(ia), strip(ib), `images.${name}`).map((c): Change => ({ layer: 'L1', ...c, action: 'rebuild', note: 'a new template version is built by `ahl image build`' }));
    return cs.length ? [{ image: name, status: 'changed', changes: cs }] : [];
  });
  const ha = new Map(a.hosts.map((h) => [h.name, h]));
  const hb = new Map(b.hosts.map((h) => [h.name, h]));
  const hosts: HostDiff[] = [];
  for (const name of [...new Set([...ha.keys(), ...hb.keys()])].sort()) {
    const x = ha.get(name);
    const y = hb.get(name);
    if (!x)
      hosts.push({
        host: name,
        persona: y!.persona,
        status: 'added',
        changes: [
          y!.runtime === 'baremetal'
            ? { layer: 'L3', path: 'host', after: `${y!.persona}, bare metal`, action: 'create', note: 'seed it with `ahl image seed`, then L3 and L4 converge it' }
            : { layer: 'L2', path: 'vm', after: `${y!.persona} on ${y!.node}`, action: 'create', note: 'a new VM, then L3 and L4 converge it' },
        ],
      });
    else if (!y) {
      const { backedUp, notBackedUp } = dataDirs(x);
      hosts.push({
        host: name,
        persona: x.persona,
        status: 'removed',
        changes: [
          x.runtime === 'baremetal'
            ? { layer: 'L3', path: 'host', before: `${x.persona}, bare metal`, action: 'destroy', note: 'no longer managed; the machine itself is left as it is' }
            : { layer: 'L2', path: 'vm', before: `${x.persona} on ${x.node}`, action: 'destroy', danger: 'destroy', note: 'the VM is destroyed' },
          ...(x.runtime === 'vm' && (backedUp.length || notBackedUp.length)
            ? [{ layer: 'L4' as const, path: 'data', before: [...backedUp, ...notBackedUp], action: 'destroy' as const, danger: 'data at risk' as const, note: `its data goes with the VM${backedUp.length ? `; backups of ${backedUp.join(', ')} stay on the backup target` : ''}${notBackedUp.length ? `; ${notBackedUp.join(', ')} is not backed up` : ''}` }]
            : []),
        ],
      });
    } else {
      const changes = hostChanges(x, y, base, head);
      if (changes.length) hosts.push({ host: name, persona: y.persona, status: 'changed', changes });
    }
  }
  const dangerous = hosts.filter((h) => h.changes.some((c) => c.danger)).length;
  return {
    base: names.base,
    head: names.head,
    lab,
    images,
    hosts,
    counts: { added: hosts.filter((h) => h.status === 'added').length, removed: hosts.filter((h) => h.status === 'removed').length, changed: hosts.filter((h) => h.status === 'changed').length, dangerous },
  };
}
