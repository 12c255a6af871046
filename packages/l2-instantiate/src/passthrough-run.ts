import type { Host, Lab, ProxmoxClient } from '@ahl/core';
import { guestOf, serverGuests } from '@ahl/l1-image';
import { planPassthrough, qmSetLine, type PassthroughAction } from './passthrough.js';

export interface PassthroughHostResult {
  readonly host: string;
  readonly vmid?: number;
  readonly node?: string;
  /**
   * absent: no VM yet; in-sync: nothing to do; planned: changes shown, not made; applied: made;
   * conflict: a slot or disk needs the operator (other changes may still have been made); failed.
   */
  readonly state: 'absent' | 'in-sync' | 'planned' | 'applied' | 'conflict' | 'failed';
  readonly actions: readonly PassthroughAction[];
  /** Slots whose change waits for the VM's next boot (it runs and cannot hot-plug them). */
  readonly pending: readonly string[];
  /** The same changes by hand, as root on the node. */
  readonly qmSet?: string;
  readonly error?: string;
}

export interface PassthroughRun {
  readonly hosts: readonly PassthroughHostResult[];
  /** Changes were wanted but no root@pam login was available to make them. */
  readonly needsRoot: readonly string[];
}

/**
 * Reads each VM's config (with the token) and, when `apply`, sets the declared passthrough disks
 * that are missing or differ, through `root` (a root@pam login: Proxmox refuses device paths to every
 * token). Idempotent: a second run finds nothing to do. Never detaches anything; conflicts and
 * undeclared device paths are reported. The config digest guards against a concurrent change.
 */
export async function convergePassthrough(
  lab: Lab,
  client: ProxmoxClient,
  hosts: readonly Host[],
  opts: { apply?: boolean; root?: () => Promise<ProxmoxClient> | undefined; signal?: AbortSignal } = {},
): Promise<PassthroughRun> {
  const guests = await serverGuests(client);
  const results: PassthroughHostResult[] = [];
  const needsRoot: string[] = [];
  let root: ProxmoxClient | undefined;
  try {
    for (const host of hosts) {
      if (host.runtime !== 'vm') continue;
      opts.signal?.throwIfAborted();
      const g = guestOf(host, guests);
      if (!g) {
        results.push({ host: host.name, state: 'absent', actions: planPassthrough(host, {}), pending: [] });
        continue;
      }
      const base = { host: host.name, vmid: g.vmid, node: g.node };
      const path = `/nodes/${encodeURIComponent(g.node)}/qemu/${g.vmid}`;
      const config = await client.request<Record<string, unknown>>('GET', `${path}/config`);
      const actions = planPassthrough(host, config);
      const changes = actions.filter((a) => a.kind === 'add' || a.kind === 'update');
      const conflicted = actions.some((a) => a.kind === 'conflict');
      const qmSet = qmSetLine(g.vmid, actions);
      if (changes.length === 0) {
        results.push({ ...base, state: conflicted ? 'conflict' : 'in-sync', actions, pending: [] });
        continue;
      }
      if (!opts.apply) {
        results.push({ ...base, state: conflicted ? 'conflict' : 'planned', actions, pending: [], ...(qmSet ? { qmSet } : {}) });
        continue;
      }
      root ??= await opts.root?.();
      if (!root) {
        needsRoot.push(host.name);
        results.push({ ...base, state: conflicted ? 'conflict' : 'planned', actions, pending: [], ...(qmSet ? { qmSet } : {}) });
        continue;
      }
      const values = Object.fromEntries(changes.map((a) => [a.slot, (a as { value: string }).value]));
      try {
        await root.request('PUT', `${path}/config`, { ...values, digest: config.digest });
      } catch (e) {
        results.push({ ...base, state: 'failed', actions, pending: [], ...(qmSet ? { qmSet } : {}), error: (e as Error).message });
        continue;
      }
      const pendingRows = (await client.request<{ key: string; pending?: unknown }[]>('GET', `${path}/pending`)) ?? [];
      const pending = pendingRows.filter((r) => r.pending !== undefined && r.key in values).map((r) => r.key).sort();
      results.push({ ...base, state: conflicted ? 'conflict' : 'applied', actions, pending });
    }
  } finally {
    await root?.close();
  }
  return { hosts: results, needsRoot };
}

/** Hosts of the lab whose VM the command should look at: VMs, with or without declared disks. */
export function passthroughHosts(lab: Lab): Host[] {
  return lab.hosts.filter((h) => h.runtime === 'vm');
}
