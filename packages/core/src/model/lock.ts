import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeSynced } from '../atomic-file.js';
import { ahlError } from '../errors.js';

/*
 * The lab lock, .ahl/lock: held by the one run that acts on the lab.
 *
 * Every file of this protocol appears whole and at once: its content is written and fsynced under a
 * private name, then hard-linked to the lock's name, which fails when the name exists (link(2) is
 * atomic on a local POSIX filesystem). So at most one run creates the lock, and no reader ever sees it
 * empty or half written.
 *
 * A lock whose holder is gone (same host, its pid no longer runs) is taken over, and that step must be
 * atomic too: two runs that both judged it stale must not both remove it, or the second would remove
 * the first one's fresh lock. Renaming a claim over the lock and reading it back does not close that
 * race (the later rename wins after the earlier run has confirmed). Instead, removing a stale lock
 * needs a marker named after that lock's exact content (`lock.<digest>.takeover`), itself created
 * with link(2): one run alone can hold it, and while it does, and the lock still holds that content,
 * nobody else can remove or replace the lock. It removes the lock and drops the marker; every run
 * then creates its own lock the ordinary way. A marker left by a run that died holding it is itself
 * stale, and is removed by the same rule one level down.
 */

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly since: string;
  /** Unique to one acquisition (absent in locks written by older versions). */
  readonly id?: string;
}

export interface LabLock {
  readonly file: string;
  /** Removes the lock if it is still this run's (never another run's). */
  release(): Promise<void>;
}

export const lockFile = (labRoot: string) => join(labRoot, '.ahl', 'lock');

/** Rounds of create → inspect → take over before giving up; each round ends or makes progress. */
const ROUNDS = 12;
/** How deep markers of markers go (a run dying while holding a marker is already rare). */
const MAX_DEPTH = 3;

/** The process that wrote a holder is known to be gone: it ran on this host and its pid does not. */
export function holderGone(holder: { readonly pid: number; readonly host: string }): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The file's content, or undefined when it does not exist. */
async function readRaw(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function parseHolder(raw: string): LockHolder | undefined {
  try {
    const h = JSON.parse(raw) as Partial<LockHolder> | null;
    return h && typeof h.pid === 'number' && typeof h.host === 'string' ? (h as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

/** Creates `file` holding `text`, whole and at once; false when it exists. */
async function createWhole(file: string, text: string): Promise<boolean> {
  const claim = `${file}.${randomBytes(6).toString('hex')}.claim`;
  await writeSynced(claim, text, 0o644);
  try {
    await link(claim, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(claim).catch(() => undefined);
  }
}

/** Removes `file` if it still holds exactly `text`; safe while its writer is alive (nobody else removes it). */
async function removeIfStill(file: string, text: string): Promise<void> {
  if ((await readRaw(file)) === text) await rm(file, { force: true });
}

/**
 * Removes `file`, which held `stale` (a holder known to be gone), unless another run is doing so or
 * it changed since. True when this run removed it.
 */
async function removeStale(file: string, stale: string, me: LockHolder, depth = 0): Promise<boolean> {
  const marker = `${file}.${createHash('sha256').update(stale).digest('hex').slice(0, 16)}.takeover`;
  const mine = `${JSON.stringify({ ...me, id: randomBytes(8).toString('hex') })}\n`;
  if (!(await createWhole(marker, mine))) {
    // Another run is removing it, or died doing so.
    const other = await readRaw(marker);
    const holder = other === undefined ? undefined : parseHolder(other);
    if (other !== undefined && holder && depth < MAX_DEPTH && holderGone(holder)) await removeStale(marker, other, me, depth + 1);
    return false;
  }
  try {
    // Holding the marker, and with the lock's writer gone, nothing else can change the lock.
    if ((await readRaw(file)) !== stale) return false;
    await rm(file, { force: true });
    return true;
  } finally {
    await removeIfStill(marker, mine);
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes the lab's lock for a run that acts on it, so two ahl runs never change the same lab at once,
 * even when they start in the same instant. A lock left by a process that no longer runs on this
 * machine is taken over (by one run only); one held by a live process, or from another machine,
 * raises LAB_LOCKED naming it. Never waits for a live holder.
 */
export async function acquireLabLock(labRoot: string, command: string): Promise<LabLock> {
  const file = lockFile(labRoot);
  const me: LockHolder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString(), id: randomBytes(8).toString('hex') };
  const text = `${JSON.stringify(me)}\n`;
  try {
    await mkdir(join(labRoot, '.ahl'), { recursive: true });
  } catch (e) {
    throw ahlError('FILE_UNWRITABLE', { path: join(labRoot, '.ahl'), reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, { cause: e });
  }
  let last: LockHolder | undefined;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      if (await createWhole(file, text))
        return {
          file,
          // A lock that cannot be removed is left to the next run, which finds its holder gone.
          release: () => removeIfStill(file, text).catch(() => undefined),
        };
      const seen = await readRaw(file);
      if (seen === undefined) continue; // released in between
      const holder = parseHolder(seen);
      if (!holder) break; // not a lock this version writes: the operator decides
      last = holder;
      if (!holderGone(holder)) break;
      // Lost the race to remove it: let the run that won finish.
      if (!(await removeStale(file, seen, me))) await pause(5 + Math.floor(Math.random() * 10));
    }
  } catch (e) {
    throw ahlError('FILE_UNWRITABLE', { path: file, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message }, { cause: e });
  }
  throw ahlError('LAB_LOCKED', {
    file,
    holder: last && !holderGone(last) ? `\`ahl ${last.command}\` (pid ${last.pid} on ${last.host}, since ${last.since})` : 'another ahl run',
  });
}
