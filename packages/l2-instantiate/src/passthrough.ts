import type { Host, PassthroughDisk } from '@ahl/core';

/*
 * Passthrough disks: whole disks of the node given to a VM by device path (a NAS's pool). Pure: the
 * drive value Proxmox stores for each declared disk, and the plan that brings a VM's config there.
 * Nothing here is ever removed from a VM: a disk the VM has and the intent lacks is only reported,
 * since detaching a pool disk from a running NAS is the operator's call, not a converge's.
 */

const DRIVE_KEY = /^(ide|sata|scsi|virtio)\d+$/;

/** Declared options as Proxmox writes them (`ro` for readonly, discard=on|ignore, booleans 1/0). */
export function passthroughOptions(d: PassthroughDisk): Record<string, string> {
  const o = d.options;
  const out: Record<string, string> = {};
  const flag = (b: boolean) => (b ? '1' : '0');
  if (o.aio !== undefined) out.aio = o.aio;
  out.backup = flag(o.backup);
  if (o.cache !== undefined) out.cache = o.cache;
  if (o.discard !== undefined) out.discard = o.discard ? 'on' : 'ignore';
  if (o.iothread !== undefined) out.iothread = flag(o.iothread);
  if (o.replicate !== undefined) out.replicate = flag(o.replicate);
  if (o.readonly !== undefined) out.ro = flag(o.readonly);
  if (o.serial !== undefined) out.serial = o.serial;
  if (o.ssd !== undefined) out.ssd = flag(o.ssd);
  return out;
}

/** The drive value to set: the device, then its options in Proxmox's (alphabetical) order. */
export function passthroughValue(d: PassthroughDisk): string {
  const opts = passthroughOptions(d);
  return [d.device, ...Object.keys(opts).sort().map((k) => `${k}=${opts[k]}`)].join(',');
}

/** A drive value split into its file and options; `size` is Proxmox's own note and left out. */
export function parseDrive(value: string): { file: string; options: Record<string, string> } {
  const [file = '', ...rest] = value.split(',');
  const options: Record<string, string> = {};
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) !== 'size') options[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return { file, options };
}

export type PassthroughAction =
  /** Declared, absent from the VM: attach it. */
  | { readonly kind: 'add'; readonly slot: string; readonly device: string; readonly value: string }
  /** Declared and attached there, with other options: set them (same disk, in place). */
  | { readonly kind: 'update'; readonly slot: string; readonly device: string; readonly value: string; readonly current: string }
  /** Declared and attached as declared. */
  | { readonly kind: 'keep'; readonly slot: string; readonly device: string }
  /** The slot holds something else, or the disk sits in another slot: never changed by ahl. */
  | { readonly kind: 'conflict'; readonly slot: string; readonly device: string; readonly current: string; readonly reason: string }
  /** A device path on the VM that no declared disk names: reported, never removed. */
  | { readonly kind: 'unmanaged'; readonly slot: string; readonly current: string };

/** What it takes to bring one VM's config to the host's declared passthrough disks. */
export function planPassthrough(host: Pick<Host, 'passthrough'>, config: Readonly<Record<string, unknown>>): PassthroughAction[] {
  const drives = Object.entries(config)
    .filter(([k, v]) => DRIVE_KEY.test(k) && typeof v === 'string')
    .map(([slot, v]) => ({ slot, value: v as string, ...parseDrive(v as string) }));
  const declared = new Set(host.passthrough.map((d) => d.slot));
  const actions: PassthroughAction[] = [];
  for (const d of host.passthrough) {
    const value = passthroughValue(d);
    const here = drives.find((x) => x.slot === d.slot);
    const elsewhere = drives.find((x) => x.slot !== d.slot && x.file === d.device);
    if (elsewhere) actions.push({ kind: 'conflict', slot: d.slot, device: d.device, current: elsewhere.value, reason: `the disk is attached at ${elsewhere.slot}; move it by hand or declare that slot` });
    else if (!here) actions.push({ kind: 'add', slot: d.slot, device: d.device, value });
    else if (here.file !== d.device) actions.push({ kind: 'conflict', slot: d.slot, device: d.device, current: here.value, reason: `${d.slot} holds ${here.file}; free the slot by hand or pick another` });
    else if (sameOptions(here.options, passthroughOptions(d))) actions.push({ kind: 'keep', slot: d.slot, device: d.device });
    else actions.push({ kind: 'update', slot: d.slot, device: d.device, value, current: here.value });
  }
  for (const x of drives) if (x.file.startsWith('/dev/') && !declared.has(x.slot) && !host.passthrough.some((d) => d.device === x.file)) actions.push({ kind: 'unmanaged', slot: x.slot, current: x.value });
  return actions.sort((a, b) => a.slot.localeCompare(b.slot, 'en', { numeric: true }));
}

function sameOptions(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/** The `qm set` line that makes the changes by hand, as root on the node. */
export function qmSetLine(vmid: number, actions: readonly PassthroughAction[]): string | undefined {
  const set = actions.filter((a): a is Extract<PassthroughAction, { kind: 'add' | 'update' }> => a.kind === 'add' || a.kind === 'update');
  return set.length ? `qm set ${vmid} ${set.map((a) => `--${a.slot} ${a.value}`).join(' ')}` : undefined;
}
