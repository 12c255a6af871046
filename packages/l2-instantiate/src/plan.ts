import { VM_RESOURCE } from './render.js';

/*
 * Reading Terraform's machine output (pure): a saved plan as `terraform show -json` prints it, and
 * the `-json` UI stream of plan and apply (one JSON object per line).
 */

export type HostAction = 'create' | 'update' | 'replace' | 'delete' | 'no-op';

export interface AttributeChange {
  /** Dotted path in the resource, e.g. `memory.dedicated`, `disk.0.size`. */
  readonly path: string;
  readonly before?: unknown;
  /** `(known after apply)` when Terraform does not know it yet; `(sensitive)` for secrets. */
  readonly after?: unknown;
}

export interface HostPlan {
  readonly host: string;
  readonly address: string;
  readonly action: HostAction;
  /** What changes, for update and replace. */
  readonly changes: readonly AttributeChange[];
  /** For replace: the attributes that force it. */
  readonly replaceBecause: readonly string[];
  /** Changed on the server since Terraform last saw it (outside ahl). */
  readonly drift: readonly AttributeChange[];
  /** An existing VM taken into Terraform's state (its import id, `node/vmid`). */
  readonly adopt?: string;
  /** Disks whose size changes, for an update: Proxmox grows one in place and never shrinks one. */
  readonly resizes: readonly DiskResize[];
}

export interface DiskResize {
  /** The slot, e.g. scsi1. */
  readonly slot: string;
  /** GiB. */
  readonly from: number;
  readonly to: number;
}

export interface PlanSummary {
  readonly hosts: readonly HostPlan[];
  readonly counts: Readonly<Record<HostAction, number>>;
  /** Anything to do. */
  readonly changes: boolean;
}

interface TfChange {
  actions: string[];
  before?: unknown;
  after?: unknown;
  after_unknown?: unknown;
  before_sensitive?: unknown;
  after_sensitive?: unknown;
  replace_paths?: (string | number)[][];
  importing?: { id?: string };
}
interface TfResourceChange {
  address: string;
  mode?: string;
  type: string;
  name: string;
  change: TfChange;
}
export interface TfPlanJson {
  resource_changes?: TfResourceChange[];
  resource_drift?: TfResourceChange[];
}

const UNKNOWN = '(known after apply)';
const SENSITIVE = '(sensitive)';

function actionOf(actions: readonly string[]): HostAction {
  if (actions.includes('create') && actions.includes('delete')) return 'replace';
  if (actions.includes('create')) return 'create';
  if (actions.includes('delete')) return 'delete';
  if (actions.includes('update')) return 'update';
  return 'no-op';
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Leaf-level differences between two values, with unknown and sensitive leaves masked. */
export function diffValues(before: unknown, after: unknown, unknown: unknown, sensBefore: unknown, sensAfter: unknown, path = ''): AttributeChange[] {
  if (unknown === true) return [{ path, ...(before === undefined ? {} : { before: sensBefore === true ? SENSITIVE : before }), after: UNKNOWN }];
  if (sensBefore === true || sensAfter === true)
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path, before: SENSITIVE, after: SENSITIVE }];
  const bothContainers = (isObject(before) || Array.isArray(before) || before == null) && (isObject(after) || Array.isArray(after) || after == null);
  const container = isObject(before) || Array.isArray(before) || isObject(after) || Array.isArray(after) || isObject(unknown) || Array.isArray(unknown);
  if (container && bothContainers) {
    const keys = new Set<string>();
    for (const v of [before, after, unknown]) if (v && typeof v === 'object') for (const k of Object.keys(v)) keys.add(k);
    const at = (v: unknown, k: string) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined);
    const out: AttributeChange[] = [];
    const ordered = [...keys].sort((a, b) => (/^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a.localeCompare(b)));
    for (const k of ordered)
      out.push(...diffValues(at(before, k), at(after, k), at(unknown, k), at(sensBefore, k), at(sensAfter, k), path ? `${path}.${k}` : k));
    return out;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path, ...(before === undefined ? {} : { before }), ...(after === undefined ? {} : { after }) }];
}

/**
 * The provider's own settings (how long to wait, whether to reboot after an update), which change
 * nothing on the VM: left out of the changes shown, as they are noise when a VM is adopted.
 */
const PROVIDER_ONLY = /^(timeout_[a-z_]+|reboot|reboot_after_update|migrate|stop_on_destroy|purge_on_destroy|delete_unreferenced_disks_on_destroy)$/;

/** What the guest agent reports of a running VM (its addresses, interfaces): observations, not settings. */
const RUNTIME = /^(ipv4_addresses|ipv6_addresses|mac_addresses|network_interface_names)(\.|$)/;

const changesOf = (c: TfChange) => diffValues(c.before, c.after, c.after_unknown, c.before_sensitive, c.after_sensitive).filter((x) => !PROVIDER_ONLY.test(x.path) && !RUNTIME.test(x.path));

/**
 * A summary per host of a saved plan: `hostOf` maps a VM resource's name back to its host. Resources
 * that are not VMs are ignored. Hosts are sorted by name.
 */
export function summarisePlan(plan: TfPlanJson, hostOf: (resourceName: string) => string): PlanSummary {
  const drift = new Map<string, AttributeChange[]>();
  // A value the refresh filled in where the state had none (after an import, say) is not a change.
  const filled = (c: AttributeChange) => c.before === undefined || c.before === null || c.before === '';
  for (const rc of plan.resource_drift ?? [])
    if (rc.type === VM_RESOURCE && rc.mode !== 'data') {
      const d = changesOf(rc.change).filter((c) => !filled(c));
      if (d.length) drift.set(rc.address, d);
    }
  const hosts: HostPlan[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.type !== VM_RESOURCE || rc.mode === 'data') continue;
    const action = actionOf(rc.change.actions);
    hosts.push({
      host: hostOf(rc.name),
      address: rc.address,
      action,
      changes: action === 'update' || action === 'replace' ? changesOf(rc.change) : [],
      replaceBecause: action === 'replace' ? (rc.change.replace_paths ?? []).map((p) => p.join('.')) : [],
      drift: drift.get(rc.address) ?? [],
      ...(rc.change.importing?.id ? { adopt: rc.change.importing.id } : {}),
      resizes: action === 'update' ? diskResizes(rc.change) : [],
    });
  }
  hosts.sort((a, b) => a.host.localeCompare(b.host));
  const counts: Record<HostAction, number> = { create: 0, update: 0, replace: 0, delete: 0, 'no-op': 0 };
  for (const h of hosts) counts[h.action]++;
  return { hosts, counts, changes: hosts.some((h) => h.action !== 'no-op' || h.adopt !== undefined) };
}

/** The disks of a VM, by slot, whose size is known on both sides of a change and differs. */
function diskResizes(c: TfChange): DiskResize[] {
  const sizes = (v: unknown): Map<string, number> => {
    const disks = isObject(v) && Array.isArray(v.disk) ? v.disk : [];
    return new Map(disks.filter(isObject).flatMap((d) => (typeof d.interface === 'string' && typeof d.size === 'number' ? [[d.interface, d.size] as const] : [])));
  };
  const before = sizes(c.before);
  return [...sizes(c.after)]
    .flatMap(([slot, to]) => {
      const from = before.get(slot);
      return from !== undefined && from !== to ? [{ slot, from, to }] : [];
    })
    .sort((a, b) => a.slot.localeCompare(b.slot, 'en', { numeric: true }));
}

/** A diagnostic Terraform printed (an error or a warning), from its `-json` stream. */
export interface TfDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly summary: string;
  readonly detail?: string;
  readonly address?: string;
}

/** One line of Terraform's `-json` UI stream, as much of it as ahl uses. */
export type TfUiEvent =
  | { readonly type: 'diagnostic'; readonly diagnostic: TfDiagnostic }
  | { readonly type: 'apply_start' | 'apply_complete' | 'apply_progress' | 'apply_errored'; readonly address: string; readonly action: string; readonly elapsed?: number; readonly message: string }
  | { readonly type: 'refresh_start' | 'refresh_complete'; readonly address: string; readonly message: string }
  | { readonly type: 'other'; readonly message: string };

/** Parses a line of the `-json` stream; undefined for a line that is not JSON. */
export function parseUiLine(line: string): TfUiEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  let o: Record<string, any>;
  try {
    o = JSON.parse(line) as Record<string, any>;
  } catch {
    return undefined;
  }
  const message = String(o['@message'] ?? '');
  const type = String(o.type ?? '');
  if (type === 'diagnostic' && o.diagnostic) {
    const d = o.diagnostic as Record<string, any>;
    return {
      type,
      diagnostic: {
        severity: d.severity === 'warning' ? 'warning' : 'error',
        summary: String(d.summary ?? ''),
        ...(d.detail ? { detail: String(d.detail) } : {}),
        ...(d.address ? { address: String(d.address) } : {}),
      },
    };
  }
  if (type === 'apply_start' || type === 'apply_complete' || type === 'apply_progress' || type === 'apply_errored') {
    const h = (o.hook ?? {}) as Record<string, any>;
    return {
      type,
      address: String(h.resource?.addr ?? ''),
      action: String(h.action ?? ''),
      ...(typeof h.elapsed_seconds === 'number' ? { elapsed: h.elapsed_seconds } : {}),
      message,
    };
  }
  if (type === 'refresh_start' || type === 'refresh_complete') return { type, address: String(o.hook?.resource?.addr ?? ''), message };
  return { type: 'other', message };
}
