import { execa } from 'execa';
import { namespaceName, PREFIX, tapName } from './names.js';

/**
 * The lab's network: a network namespace holding a bridge (with the gateway address) and the
 * guests' tap devices. Guests are reachable only from inside the namespace; nothing is routed out.
 */
export interface LabNetwork {
  readonly namespace: string;
  readonly bridge: string;
  /** Gateway address with prefix, on the bridge, e.g. 10.77.0.1/24. */
  readonly gateway: string;
  addTap(index: number): Promise<string>;
  /** argv prefix that runs a command inside the namespace. */
  exec(argv: readonly string[]): string[];
  destroy(): Promise<void>;
}

async function ip(args: string[]): Promise<void> {
  const r = await execa('ip', args, { reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`ip ${args.join(' ')} failed (exit ${r.exitCode}): ${r.all}`);
}

export async function createLabNetwork(runId: string, gateway = '10.77.0.1/24'): Promise<LabNetwork> {
  const ns = namespaceName(runId);
  const bridge = 'br0';
  await ip(['netns', 'add', ns]);
  const inNs = (args: string[]) => ip(['-n', ns, ...args]);
  try {
    await inNs(['link', 'set', 'lo', 'up']);
    await inNs(['link', 'add', bridge, 'type', 'bridge']);
    await inNs(['addr', 'add', gateway, 'dev', bridge]);
    await inNs(['link', 'set', bridge, 'up']);
  } catch (e) {
    await ip(['netns', 'del', ns]).catch(() => undefined);
    throw e;
  }
  return {
    namespace: ns,
    bridge,
    gateway,
    async addTap(index) {
      const tap = tapName(runId, index);
      await inNs(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      await inNs(['link', 'set', tap, 'master', bridge]);
      await inNs(['link', 'set', tap, 'up']);
      return tap;
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

/** Namespaces left by killed runs (ours carry the prefix): their processes are killed and they are removed. */
export async function removeStaleNamespaces(keep: readonly string[] = []): Promise<string[]> {
  const r = await execa('ip', ['netns', 'list'], { reject: false });
  const stale = r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${PREFIX}-`) && !keep.includes(n));
  for (const ns of stale) {
    await killNamespaceProcesses(ns);
    await ip(['netns', 'del', ns]).catch(() => undefined);
  }
  return stale;
}

export async function listNamespaces(): Promise<string[]> {
  const r = await execa('ip', ['netns', 'list'], { reject: false });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}
