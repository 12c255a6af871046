import { ProxmoxApiError, waitForTask, type Host, type ProxmoxClient } from '@ahl/core';
import { guestOf, type ServerTemplate } from '@ahl/l1-image';

/*
 * `ahl power`: start, shut down or reboot hosts through the Proxmox API, rolling one host at a
 * time, each followed by a health check (running, and the guest agent answering when the VM has
 * one) before the next is touched. The plan is pure; the run stops at the first host that fails,
 * leaving the rest as they were.
 */

export const POWER_ACTIONS = ['start', 'shutdown', 'reboot'] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];

export interface PowerStep {
  readonly host: string;
  readonly vmid?: number;
  readonly node?: string;
  /** The VM's power state before. */
  readonly power?: string;
  readonly act: boolean;
  /** What will be done, or why nothing will. */
  readonly reason: string;
}

/** Reboot only hosts whose pending-reboot answer is true (`--if-needed`). */
export type PendingMap = ReadonlyMap<string, { readonly pending?: boolean; readonly message?: string }>;

/** What `action` would do on each host, in order. Pure. */
export function planPower(action: PowerAction, hosts: readonly Host[], guests: readonly ServerTemplate[], pending?: PendingMap): PowerStep[] {
  return hosts.map((h): PowerStep => {
    if (h.runtime === 'baremetal') return { host: h.name, act: false, reason: 'bare metal: not powered through Proxmox' };
    const vm = guestOf(h, guests);
    if (!vm) return { host: h.name, act: false, reason: 'no VM on the server' };
    const base = { host: h.name, vmid: vm.vmid, node: vm.node, power: vm.status };
    const running = vm.status === 'running';
    if (action === 'start') return running ? { ...base, act: false, reason: 'already running' } : { ...base, act: true, reason: 'start, then wait until healthy' };
    if (action === 'shutdown') return running ? { ...base, act: true, reason: 'shut down (ACPI, then the guest agent)' } : { ...base, act: false, reason: `already ${vm.status}` };
    if (!running) return { ...base, act: false, reason: `${vm.status}: nothing to reboot` };
    if (pending) {
      const p = pending.get(h.name);
      if (!p) return { ...base, act: false, reason: 'cannot tell whether it needs a reboot (no L3 on this host)' };
      if (p.pending === undefined) return { ...base, act: false, reason: `cannot tell whether it needs a reboot: ${(p.message ?? '').split('\n')[0]}` };
      if (!p.pending) return { ...base, act: false, reason: 'no reboot pending' };
      return { ...base, act: true, reason: 'a reboot is pending: reboot, then wait until healthy' };
    }
    return { ...base, act: true, reason: 'reboot, then wait until healthy' };
  });
}

export interface PowerResult {
  readonly host: string;
  readonly status: 'done' | 'skipped' | 'failed' | 'not reached';
  readonly message?: string;
  readonly durationMs?: number;
}

export interface PowerRunOptions {
  /** Per host, for the action and the health check together. */
  readonly timeoutMs: number;
  readonly onStart?: (step: PowerStep) => void;
  readonly onDone?: (result: PowerResult) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Checked before each host: once aborted, the rest are left as they were. */
  readonly signal?: AbortSignal;
}

/** Waits until the VM runs and, when it has a guest agent, until the agent answers. */
async function healthy(client: ProxmoxClient, step: PowerStep, deadline: number, sleep: (ms: number) => Promise<void>): Promise<string | undefined> {
  const base = `/nodes/${encodeURIComponent(step.node!)}/qemu/${step.vmid}`;
  let delay = 500;
  let last = 'not running';
  for (;;) {
    const cur = await client.request<{ status: string; agent?: number }>('GET', `${base}/status/current`);
    if (cur.status === 'running') {
      if (!cur.agent) return undefined;
      try {
        await client.request('POST', `${base}/agent/ping`);
        return undefined;
      } catch (e) {
        if (!(e instanceof ProxmoxApiError)) throw e;
        last = `the guest agent does not answer (${e.message.split('\n')[0]})`;
      }
    } else last = `it is ${cur.status}`;
    if (Date.now() > deadline) return last;
    await sleep(delay);
    delay = Math.min(delay * 1.5, 5000);
  }
}

/** Carries out the steps one host at a time; the first failure stops the roll. */
export async function runPower(client: ProxmoxClient, action: PowerAction, steps: readonly PowerStep[], opts: PowerRunOptions): Promise<PowerResult[]> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const results: PowerResult[] = [];
  let stopped = false;
  for (const step of steps) {
    if (!step.act) {
      results.push({ host: step.host, status: 'skipped', message: step.reason });
      continue;
    }
    if (stopped || opts.signal?.aborted) {
      results.push({ host: step.host, status: 'not reached', message: stopped ? 'an earlier host failed; left as it was' : 'interrupted; left as it was' });
      continue;
    }
    opts.onStart?.(step);
    const started = Date.now();
    const deadline = started + opts.timeoutMs;
    const fail = (message: string): PowerResult => ({ host: step.host, status: 'failed', message, durationMs: Date.now() - started });
    let result: PowerResult;
    try {
      const upid = await client.request<string>('POST', `/nodes/${encodeURIComponent(step.node!)}/qemu/${step.vmid}/status/${action}`, action === 'shutdown' ? { timeout: Math.max(1, Math.round(opts.timeoutMs / 1000)) } : {});
      const task = await waitForTask(client, upid, { timeoutMs: opts.timeoutMs, sleep });
      if (!task.ok) result = fail(`the ${action} task failed: ${task.exitstatus}`);
      else if (action === 'shutdown') result = { host: step.host, status: 'done', durationMs: Date.now() - started };
      else {
        const unhealthy = await healthy(client, step, deadline, sleep);
        result = unhealthy ? fail(`not healthy after ${Math.round(opts.timeoutMs / 1000)} s: ${unhealthy}`) : { host: step.host, status: 'done', durationMs: Date.now() - started };
      }
    } catch (e) {
      if (!(e instanceof ProxmoxApiError)) throw e;
      result = fail(e.message.split('\n')[0]!);
    }
    results.push(result);
    opts.onDone?.(result);
    if (result.status === 'failed') stopped = true;
  }
  return results;
}
