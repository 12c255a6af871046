import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTerraform, providerMirror } from '@ahl/l2-instantiate';
import { startSim, type RunningSim, type SeedConfig } from '@ahl/pve-sim';
import { main } from '../src/index.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured streams. */
export async function ahl(
  argv: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; tty?: boolean; signal?: AbortSignal; onStderr?: (text: string) => void } = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main({
    argv,
    env: opts.env ?? {},
    cwd: opts.cwd ?? REPO,
    streams: {
      stdout: { write: (s: string) => (stdout += s), isTTY: opts.tty ?? false },
      stderr: {
        write: (s: string) => {
          stderr += s;
          opts.onStderr?.(s);
        },
        isTTY: opts.tty ?? false,
      },
    },
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { code, stdout, stderr };
}

/** A copy of the example lab in a temporary folder, to break on purpose. */
export function exampleLabCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-cli-'));
  for (const entry of ['lab.yaml', 'images', 'personas', 'stacks', 'roles', 'tasks', 'schemas']) cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
  return dir;
}

/** Writes `files` (path relative to `dir` → text) into `dir`, making folders as needed. */
export function writeTree(dir: string, files: Readonly<Record<string, string>>): string {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

/**
 * A stand-in ansible-playbook (for AHL_ANSIBLE_PLAYBOOK) printing recorded events: each host's
 * changed tasks, then the stats; a host listed in `failed` fails its last task.
 */
export function fakePlaybook(changed: Record<string, string[]>, failed: readonly string[] = []): string {
  const bin = join(mkdtempSync(join(tmpdir(), 'ahl-cli-fake-playbook-')), 'ansible-playbook');
  const events = [
    ...Object.entries(changed).flatMap(([host, tasks]) => tasks.map((task) => ({ event: 'host_task', host, task, status: 'changed' }))),
    ...failed.map((host) => ({ event: 'host_task', host, task: 'base : Install packages', status: 'failed', msg: 'injected failure' })),
    {
      event: 'stats',
      hosts: Object.fromEntries(
        [...new Set([...Object.keys(changed), ...failed])].map((h) => [h, { ok: 5, changed: changed[h]?.length ?? 0, failures: failed.includes(h) ? 1 : 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 }]),
      ),
    },
  ];
  writeFileSync(bin, `#!/bin/sh\ncat <<'EOF'\n${events.map((e) => JSON.stringify(e)).join('\n')}\nEOF\n${failed.length ? 'exit 2\n' : ''}`);
  chmodSync(bin, 0o755);
  return bin;
}

/** A cloud image served over loopback HTTP (64 KiB of random bytes at /noble.img), with its sha256. */
export async function servedImage(): Promise<{ url: string; checksum: string; close: () => Promise<void> }> {
  const body = randomBytes(64 * 1024);
  const server = createServer((req, res) => (req.url === '/noble.img' ? res.end(body) : res.writeHead(404).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/noble.img`,
    checksum: `sha256:${createHash('sha256').update(body).digest('hex')}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * A one-node pve-sim for CLI tests: pve1 with vmbr0, `local` (import, iso, snippets) and `local-lvm`,
 * and the token ahl@pve!ahl (Administrator) with `secret`; plus the given guests. HTTPS when `https`
 * (the bpg provider refuses plain HTTP): pin `sim.fingerprint` in lab.yaml then.
 */
export function oneNodeSim(secret: string, guests: NonNullable<SeedConfig['guests']> = [], https = false): Promise<RunningSim> {
  return startSim({
    https,
    authFailureDelayMs: 0,
    statsLagMs: 0,
    taskDurationMs: 10,
    seed: {
      nodes: [{ name: 'pve1', bridges: [{ iface: 'vmbr0' }] }],
      storages: [
        { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['import', 'iso', 'snippets'], size: 50 },
        { id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 100 },
      ],
      users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret, privsep: false }] }],
      acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
      guests,
    },
  });
}

/** What the L2 tool tests need and this machine lacks: terraform (or tofu), the provider in the mirror. */
export function missingForL2(): string[] {
  const m: string[] = [];
  try {
    findTerraform();
  } catch {
    m.push('terraform or tofu');
  }
  if (!providerMirror()) m.push('the bpg/proxmox provider in the cache mirror (scripts/bootstrap builds it)');
  return m;
}
