import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../atomic-file.js';

/*
 * What this machine remembers about the lab between runs, under <lab>/.ahl/ (ignored by Git):
 *   .ahl/state/hosts/<host>.json   the last converge, check and backup ahl saw for each host
 *   .ahl/lock                      held by the run that acts on the lab (./lock.ts)
 * Records committed for Git (template manifests, channels) live elsewhere: this is only what the
 * operator's own runs observed, so `ahl status` can answer without contacting every host.
 */

const RunSchema = z.strictObject({
  /** When the run ended (ISO 8601, UTC). */
  at: z.string(),
  status: z.enum(['ok', 'changed', 'failed', 'unreachable']),
  /** Tasks that changed the host, or under --check would have. */
  changed: z.array(z.string()).default([]),
  /** Digest of the intent a successful converge applied, so drift can tell an intent change from a hand-made one. */
  intent: z.string().optional(),
});
export type LayerRun = z.output<typeof RunSchema>;

const BackupSeenSchema = z.strictObject({
  /** When ahl last read the host's backup records. */
  at: z.string(),
  /** The last good backup then: id, finish time, bytes and digest. */
  last: z.strictObject({ id: z.string(), time: z.string(), size: z.number().optional(), digest: z.string().optional() }).optional(),
  /** The last run failed (its id). */
  failed: z.string().optional(),
});
export type BackupSeen = z.output<typeof BackupSeenSchema>;

export const HostStateSchema = z.strictObject({
  host: z.string(),
  /** The last `converge system` and `converge workload` that applied changes. */
  system: RunSchema.optional(),
  workload: RunSchema.optional(),
  /** The last drift checks (`--check`); status `changed` means drift was found. */
  systemCheck: RunSchema.optional(),
  workloadCheck: RunSchema.optional(),
  /** The last L2 apply (`ahl apply`, `ahl destroy`, `ahl up`) that created, changed or destroyed the VM; `changed` holds Terraform's actions. */
  instance: RunSchema.optional(),
  /** The last `ahl passthrough --approve` (or `ahl up`) that converged the VM's passthrough disks. */
  passthrough: RunSchema.optional(),
  backup: BackupSeenSchema.optional(),
});
export type HostState = z.output<typeof HostStateSchema>;
export type HostStatePatch = Partial<Omit<HostState, 'host'>>;

export const stateDir = (labRoot: string) => join(labRoot, '.ahl', 'state');
const hostsDir = (labRoot: string) => join(stateDir(labRoot), 'hosts');
const hostFile = (labRoot: string, host: string) => join(hostsDir(labRoot), `${host}.json`);

/** Every host's remembered state, by host name. A file that cannot be read is skipped: it is a cache. */
export async function readHostStates(labRoot: string): Promise<Map<string, HostState>> {
  const out = new Map<string, HostState>();
  let names: string[];
  try {
    names = (await readdir(hostsDir(labRoot))).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const parsed = HostStateSchema.safeParse(JSON.parse(await readFile(join(hostsDir(labRoot), n), 'utf8')));
      if (parsed.success) out.set(parsed.data.host, parsed.data);
    } catch {
      // A torn or foreign file: ignored, and replaced by the next record.
    }
  }
  return out;
}

/** Merges what a run learnt into each host's state; each file is replaced atomically and durably. */
export async function recordHostStates(labRoot: string, patches: Readonly<Record<string, HostStatePatch>>): Promise<void> {
  const hosts = Object.keys(patches);
  if (!hosts.length) return;
  await mkdir(hostsDir(labRoot), { recursive: true });
  const known = await readHostStates(labRoot);
  for (const host of hosts) {
    const next: HostState = { ...(known.get(host) ?? {}), ...patches[host], host };
    await writeJsonAtomic(hostFile(labRoot, host), HostStateSchema.parse(next));
  }
}

// ---------------------------------------------------------------- the last applied intent

export const AppliedSchema = z.strictObject({
  /** The commit the lab's files were at. */
  commit: z.string(),
  /** The lab's files had uncommitted changes then. */
  dirty: z.boolean(),
  at: z.string(),
  command: z.string(),
});
export type Applied = z.output<typeof AppliedSchema>;

const appliedFile = (labRoot: string) => join(stateDir(labRoot), 'applied.json');

/** The intent last applied from this machine (a converge that succeeded on every host), if any. */
export async function readApplied(labRoot: string): Promise<Applied | undefined> {
  try {
    const parsed = AppliedSchema.safeParse(JSON.parse(await readFile(appliedFile(labRoot), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function recordApplied(labRoot: string, applied: Applied): Promise<void> {
  await writeJsonAtomic(appliedFile(labRoot), AppliedSchema.parse(applied));
}
