import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ahlError } from '../errors.js';

/*
 * What this machine remembers about the lab between runs, under <lab>/.ahl/ (ignored by Git):
 *   .ahl/state/hosts/<host>.json   the last converge, check and backup ahl saw for each host
 *   .ahl/lock                      held by the run that acts on the lab
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

/** Merges what a run learnt into each host's state; each file is replaced atomically. */
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

/** Writes a JSON record (its folder made when missing) so that a reader never sees half of it. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
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

// ---------------------------------------------------------------- the lab lock

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly since: string;
}

export interface LabLock {
  readonly file: string;
  release(): Promise<void>;
}

export const lockFile = (labRoot: string) => join(labRoot, '.ahl', 'lock');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockHolder;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lab's lock for a run that acts on it, so two ahl runs never change the same lab at
 * once. A lock left by a process that no longer runs on this machine is taken over; one held by a
 * live process raises LAB_LOCKED naming it.
 */
export async function acquireLabLock(labRoot: string, command: string): Promise<LabLock> {
  const file = lockFile(labRoot);
  await mkdir(join(labRoot, '.ahl'), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o644);
      await fh.writeFile(`${JSON.stringify(me)}\n`);
      await fh.close();
      return {
        file,
        async release() {
          const holder = await readHolder(file);
          if (holder?.pid === me.pid && holder.since === me.since) await rm(file, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = await readHolder(file);
      if (holder && holder.host === me.host && !alive(holder.pid)) {
        await rm(file, { force: true });
        continue;
      }
      if (!holder) {
        // Being written right now, or torn: give the writer a moment.
        await new Promise((r) => setTimeout(r, 50));
        if (attempt < 2) continue;
      }
      throw ahlError('LAB_LOCKED', {
        file,
        holder: holder ? `\`ahl ${holder.command}\` (pid ${holder.pid} on ${holder.host}, since ${holder.since})` : 'another ahl run',
      });
    }
  }
  throw ahlError('LAB_LOCKED', { file, holder: 'another ahl run' });
}
