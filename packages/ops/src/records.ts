import { readHostStates, recordApplied, recordHostStates, type HostStatePatch, type Lab } from '@ahl/core';
import { headCommit } from './git-lab.js';
import { intentOf } from './intent.js';

/*
 * What commands remember for `ahl status`: the last converge or check of each layer per host, and
 * the last backup seen. A failure to remember is a warning (given to `warn`), never the command's
 * failure.
 */

/** Where a failure to remember goes: the caller's warnings. */
export type Warn = (message: string) => void;

export async function remember(warn: Warn, root: string, patches: Readonly<Record<string, HostStatePatch>>): Promise<void> {
  try {
    await recordHostStates(root, patches);
  } catch (e) {
    warn(`! could not record the result for ahl status: ${(e as Error).message}`);
  }
}

interface LayerOutcome {
  readonly host: string;
  readonly status: 'ok' | 'changed' | 'failed' | 'unreachable';
  readonly changed: readonly { readonly task: string }[];
  /** Left alone as unchanged since its last converge (whose record stands). */
  readonly unchanged?: boolean;
}

/**
 * Remembers a converge (or, with check, a drift check) of one layer on each host, and with a
 * successful converge the digest of the intent it applied.
 */
export async function rememberLayer(warn: Warn, lab: Lab, layer: 'system' | 'workload', check: boolean, hosts: readonly LayerOutcome[], at = new Date()): Promise<void> {
  const key = check ? (`${layer}Check` as const) : layer;
  const patches: Record<string, HostStatePatch> = {};
  for (const h of hosts.filter((x) => !x.unchanged)) {
    const host = lab.hosts.find((x) => x.name === h.host);
    const applied = !check && host && (h.status === 'ok' || h.status === 'changed');
    const intent = applied ? await intentOf(layer, lab, host) : undefined;
    patches[h.host] = { [key]: { at: at.toISOString(), status: h.status, changed: h.changed.map((c) => c.task), ...(intent ? { intent } : {}) } };
  }
  await remember(warn, lab.root, patches);
  if (!check && hosts.length && hosts.every((h) => h.status === 'ok' || h.status === 'changed')) await rememberApplied(warn, lab.root, `converge ${layer}`, at);
}

/** Records the commit a successful converge applied, the default base of `ahl diff`. Outside Git, nothing. */
async function rememberApplied(warn: Warn, root: string, command: string, at: Date): Promise<void> {
  try {
    const head = await headCommit(root);
    await recordApplied(root, { ...head, at: at.toISOString(), command });
  } catch (e) {
    if ((e as { code?: string }).code !== 'GIT_FAILED') warn(`! could not record the applied commit: ${(e as Error).message}`);
  }
}

interface SeenBackup {
  readonly id: string;
  readonly time: string;
  readonly finished?: string;
  readonly status: 'ok' | 'failed';
  readonly size?: number;
  readonly digest?: string;
}

/** Remembers the last good (and failed) backup of each host whose records were read or made. */
export async function rememberBackups(warn: Warn, root: string, hosts: readonly { host: string; last?: SeenBackup; lastFailure?: SeenBackup }[], at = new Date()): Promise<void> {
  const known = await readHostStates(root).catch(() => new Map());
  const patches: Record<string, HostStatePatch> = {};
  for (const h of hosts) {
    if (!h.last && !h.lastFailure) continue;
    const last = h.last?.status === 'ok' ? h.last : undefined;
    // A failed run does not make the last good backup any older: keep what was seen before.
    const before = known.get(h.host)?.backup?.last;
    patches[h.host] = {
      backup: {
        at: at.toISOString(),
        ...(last ? { last: { id: last.id, time: last.finished ?? last.time, ...(last.size !== undefined ? { size: last.size } : {}), ...(last.digest ? { digest: last.digest } : {}) } } : before ? { last: before } : {}),
        ...(h.lastFailure && (!last || h.lastFailure.time > last.time) ? { failed: h.lastFailure.id } : {}),
      },
    };
  }
  return remember(warn, root, patches);
}

/** Remembers the backup each host just ran (`ahl backup`, a rebuild's backup phase): its record, good or failed. */
export function rememberBackupRuns(warn: Warn, root: string, hosts: readonly { host: string; record?: SeenBackup }[], at = new Date()): Promise<void> {
  return rememberBackups(warn, root, hosts.map((h) => ({ host: h.host, ...(h.record ? (h.record.status === 'ok' ? { last: h.record } : { lastFailure: h.record }) : {}) })), at);
}

/**
 * Remembers an applied passthrough converge on each VM it left as declared (changed or already so),
 * with the digest of the declared disks, so drift can tell a hand-made change from an intent change.
 */
export async function rememberPassthrough(
  warn: Warn,
  lab: Lab,
  hosts: readonly { readonly host: string; readonly state: string; readonly actions: readonly { readonly kind: string; readonly slot: string }[] }[],
  at = new Date(),
): Promise<void> {
  const patches: Record<string, HostStatePatch> = {};
  for (const h of hosts) {
    const host = lab.hosts.find((x) => x.name === h.host);
    if (!host || (h.state !== 'applied' && h.state !== 'in-sync')) continue;
    const changed = h.actions.filter((a) => a.kind === 'add' || a.kind === 'update').map((a) => a.slot);
    patches[h.host] = { passthrough: { at: at.toISOString(), status: h.state === 'applied' ? 'changed' : 'ok', changed, intent: await intentOf('passthrough', lab, host) } };
  }
  if (Object.keys(patches).length) await remember(warn, lab.root, patches);
}
