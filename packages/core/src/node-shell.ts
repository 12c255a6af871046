import type { Readable } from 'node:stream';
import type { ResultPromise } from 'execa';
import { ahlError } from './errors.js';
import type { Lab } from './model/lab.js';
import { labFile } from './reach.js';

/**
 * A Proxmox node's shell, for the little the API cannot do (reading a VM disk to export it). Over
 * SSH as lab.yaml's `nodes.<node>.ssh` says (default root@ the endpoint's host), or on this machine
 * when it is the node (`local`, as the local lab's lab.local.yaml sets it). Scripts are POSIX sh.
 */
export interface NodeShell {
  readonly node: string;
  /** For messages: `root@pve1.lab.example` or `this machine`. */
  readonly where: string;
  /** Runs a script; resolves its stdout (trimmed), or throws NODE_SHELL_FAILED with its stderr. */
  run(script: string): Promise<string>;
  /** Runs a script whose stdout is data (a disk image); `done` settles when it has exited. */
  stream(script: string): Promise<{ readonly stdout: Readable; readonly done: Promise<void> }>;
}

export function nodeShell(lab: Lab, node: string, opts: { signal?: AbortSignal } = {}): NodeShell {
  const cfg = lab.config;
  const spec = cfg.nodes[node]?.ssh ?? `root@${Object.keys(cfg.nodes).length === 1 ? new URL(cfg.proxmox.endpoint).hostname : node}`;
  const local = spec === 'local';
  const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(spec);
  const where = local ? 'this machine' : `${m?.[1] ?? 'root'}@${m?.[2]}`;
  // execa is loaded on first use, so commands that never reach a node do not pay for it.
  const start = async (script: string, streaming = false): Promise<{ child: ResultPromise }> => {
    const { execa } = await import('execa');
    // A streamed stdout (gigabytes of disk) is read by the caller, never buffered here.
    const common = { reject: false, stdin: 'ignore', ...(streaming ? { buffer: { stdout: false, stderr: true } } : {}), ...(opts.signal ? { cancelSignal: opts.signal } : {}) } as const;
    if (local) return { child: execa('sh', ['-c', script], common) };
    const args = ['-o', 'BatchMode=yes', '-o', `StrictHostKeyChecking=${cfg.ssh.hostKeyPolicy === 'strict' ? 'yes' : 'accept-new'}`, '-o', 'ConnectTimeout=10'];
    if (m?.[3]) args.push('-p', m[3]);
    if (cfg.ssh.privateKey) args.push('-i', labFile(lab, cfg.ssh.privateKey));
    if (cfg.ssh.jumpHost) args.push('-o', `ProxyJump=${cfg.ssh.jumpHost}`);
    return { child: execa('ssh', [...args, where, '--', `sh -c ${shellQuote(script)}`], common) };
  };
  const failed = (r: { exitCode?: number; stderr?: unknown; isCanceled?: boolean }, script: string) =>
    ahlError('NODE_SHELL_FAILED', {
      node,
      where,
      step: script.split('\n')[0]!.slice(0, 80),
      reason: r.isCanceled ? 'interrupted' : `exit ${r.exitCode ?? '?'}${String(r.stderr ?? '').trim() ? `: ${String(r.stderr).trim().split('\n').slice(-3).join(' / ')}` : ''}`,
    });
  return {
    node,
    where,
    async run(script) {
      const r = await (await start(script)).child;
      if (r.exitCode !== 0) throw failed(r, script);
      return String(r.stdout).trim();
    },
    async stream(script) {
      const { child } = await start(script, true);
      return {
        stdout: child.stdout as Readable,
        done: child.then((r) => {
          if (r.exitCode !== 0) throw failed(r, script);
        }),
      };
    },
  };
}

/** One argument for sh: single-quoted, with embedded quotes closed and escaped. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
