import { statSync } from 'node:fs';
import { execa } from 'execa';
import { namespaceName, PREFIX, tapName } from './names.js';

/**
 * The lab's network: a network namespace holding a bridge (with the gateway address) and the
 * guests' tap devices. Guests are reachable only from inside the namespace; nothing is routed out.
 */
export interface LabNetwork {
  readonly namespace: string;
  /** The first bridge. */
  readonly bridge: string;
  readonly bridges: readonly string[];
  /** The first bridge's address with prefix, e.g. 10.77.0.1/24: the guests' gateway. */
  readonly gateway: string;
  /** Adds a tap device to `bridge` (default: the first). */
  addTap(index: number, bridge?: string): Promise<string>;
  removeTap(tap: string): Promise<void>;
  /** argv prefix that runs a command inside the namespace. */
  exec(argv: readonly string[]): string[];
  destroy(): Promise<void>;
}

async function ip(args: string[]): Promise<void> {
  const r = await execa('ip', args, { reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(' ')} failed (exit ${r.exitCode}): ${r.all}`);
}

export interface BridgeSpec {
  readonly name: string;
  /** Address with prefix given to the bridge inside the namespace (the guests' gateway). */
  readonly address?: string;
}

export async function createLabNetwork(runId: string, bridges: readonly BridgeSpec[] = [{ name: 'br0', address: '10.77.0.1/24' }]): Promise<LabNetwork> {
  const ns = namespaceName(runId);
  await ip(['netns', 'add', ns]);
  const inNs = (args: string[]) => ip(['-n', ns, ...args]);
  try {
    await inNs(['link', 'set', 'lo', 'up']);
    // The gateway is the guests' nameserver but runs no DNS: every lookup must fail at once (ICMP port
    // unreachable), not time out because the kernel rate-limits those replies (apt on a first boot
    // would otherwise wait minutes in cloud-init's package_upgrade).
    await ip(['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv4.icmp_ratelimit=0']);
    for (const b of bridges) {
      await inNs(['link', 'add', b.name, 'type', 'bridge']);
      if (b.address) await inNs(['addr', 'add', b.address, 'dev', b.name]);
      await inNs(['link', 'set', b.name, 'up']);
    }
  } catch (e) {
    await ip(['netns', 'del', ns]).catch(() => undefined);
    throw e;
  }
  const names = bridges.map((b) => b.name);
  return {
    namespace: ns,
    bridge: names[0]!,
    bridges: names,
    gateway: bridges.find((b) => b.address)?.address ?? '',
    async addTap(index, bridge = names[0]!) {
      if (!names.includes(bridge)) throw new Error(`bridge ${bridge} does not exist in the lab network (${names.join(', ')})`);
      const tap = tapName(runId, index);
      await inNs(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      await inNs(['link', 'set', tap, 'master', bridge]);
      await inNs(['link', 'set', tap, 'up']);
      return tap;
    },
    async removeTap(tap) {
      await inNs(['link', 'del', tap]).catch(() => undefined);
    },
    exec: (argv) => ['ip', 'netns', 'exec', ns, ...argv],
    async destroy() {
      await killNamespaceProcesses(ns);
      await ip(['netns', 'del', ns]).catch(() => undefined);
    },
  };
}

async function killNamespaceProcesses(ns: string): Promise<void> {
  const r = await execa('ip', ['netns', 'pids', ns], { reject: false });
  const pids = r.stdout.split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A namespace this young with no process in it may be a lab still starting its first guest. */
const STARTING_MS = 10 * 60_000;

/**
 * Removes lab namespaces (our prefix) that no process lives in any more: what killed runs left.
 * A namespace with running guests belongs to a live lab and is kept, and so is one made in the last
 * ten minutes (another test file's lab may not have started its guests yet), unless it is named in
 * `force`, whose processes are killed first.
 */
export async function removeStaleNamespaces(force: readonly string[] = []): Promise<string[]> {
  const now = Date.now();
  const removed: string[] = [];
  for (const ns of (await listNamespaces()).filter((n) => n.startsWith(`${PREFIX}-`))) {
    if (!force.includes(ns)) {
      const pids = (await execa('ip', ['netns', 'pids', ns], { reject: false })).stdout.trim();
      if (pids) continue;
      const made = statSync(`/run/netns/${ns}`, { throwIfNoEntry: false })?.mtimeMs ?? 0;
      if (now - made < STARTING_MS) continue;
    }
    await killNamespaceProcesses(ns);
    await ip(['netns', 'del', ns]).catch(() => undefined);
    removed.push(ns);
  }
  return removed;
}

export async function listNamespaces(): Promise<string[]> {
  const r = await execa('ip', ['netns', 'list'], { reject: false });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}
