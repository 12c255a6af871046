import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { hostsWrap, labFile, Redactor, silentReporter, type Host, type Lab, type Reporter } from '@ahl/core';
import { ansibleEnv, ansiblePlaybookArgv, commandLine } from './command.js';
import { ANSIBLE_DIR } from './content.js';
import { ConvergeError } from './errors.js';
import { parseEventLine, summarizeEvents, type AnsibleEvent, type HostConvergeResult } from './events.js';
import { systemDigest } from './digest.js';
import { labRoleNames, renderInventory } from './inventory.js';
import { findAnsibleGalaxy, installRequirements, requirementFiles } from './requirements.js';
import { acceptNewSshWrapper, chooseStrategy, SSH_WRAPPER, type AnsibleStrategy } from './strategy.js';
import { selectHosts } from './targets.js';

/** Runs a process, calling `onLine` for each stdout line as it arrives. Injected by tests. */
export type PlaybookSpawner = (
  argv: readonly string[],
  opts: { env: Record<string, string>; cwd: string; onLine: (line: string) => void },
) => Promise<{ exitCode: number; stderr: string; signal?: string }>;

/** How ansible-playbook is found, run and reported: shared by every layer that drives it. */
export interface PlaybookOptions {
  /** Hosts run in parallel (default: every selected host, at most 20). */
  readonly forks?: number;
  /** Live per-host progress: one event per host and task. */
  readonly reporter?: Reporter;
  /** Every text in results and errors passes through it. */
  readonly redactor?: Redactor;
  /** The ansible-playbook executable (default: see `findAnsiblePlaybook`). */
  readonly ansiblePlaybook?: string;
  /** argv prefix, e.g. `ip netns exec NS`, for hosts inside a network namespace. */
  readonly wrap?: (argv: readonly string[]) => string[];
  /** known_hosts file (default: the operator's). */
  readonly knownHostsFile?: string;
  /** Environment for ansible-playbook and for finding it (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly onEvent?: (e: AnsibleEvent) => void;
  readonly spawn?: PlaybookSpawner;
}

export interface ConvergeOptions extends PlaybookOptions {
  /** Personas or hosts; none means every host with a `system` section. */
  readonly targets?: readonly string[];
  /** Report drift (`--check --diff`) and change nothing. */
  readonly check?: boolean;
  /**
   * Only these roles: bundled roles' tags (SYSTEM_TAGS) and the tags of the lab's own roles and task
   * files (`systemTags(lab)` lists both). A lab role's tag runs that role alone.
   */
  readonly tags?: readonly string[];
  /** Hosts just created (by `ahl up`): wait for SSH and their first boot before converging. */
  readonly waitHosts?: readonly string[];
  /**
   * Leave alone a host whose last full converge recorded the digest of the intent it gets now
   * (`ahl up`). Drift made by hand on such a host is left too: `ahl converge`, `drift` and `reconcile`
   * always run every task.
   */
  readonly skipUnchanged?: boolean;
}

export interface ConvergeResult {
  readonly check: boolean;
  /** No host failed or was unreachable. Under --check, drift shows as hosts with status `changed`. */
  readonly ok: boolean;
  readonly hosts: readonly HostConvergeResult[];
  readonly command: readonly string[];
  readonly exitCode: number;
  readonly durationMs: number;
}

// ansible-playbook's exit statuses when it ran to the end: 0 all fine, 2 a host failed, 4 a host was unreachable.
export const PLAYBOOK_COMPLETED: ReadonlySet<number> = new Set([0, 2, 4]);

/**
 * Finds ansible-playbook: `AHL_ANSIBLE_PLAYBOOK`, then PATH, then the virtualenv that
 * scripts/bootstrap makes under the ahl cache (`$AHL_CACHE_DIR` or ~/.cache/ahl).
 */
export function findAnsiblePlaybook(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.AHL_ANSIBLE_PLAYBOOK) return env.AHL_ANSIBLE_PLAYBOOK;
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) if (existsSync(join(dir, 'ansible-playbook'))) return join(dir, 'ansible-playbook');
  const venv = join(env.AHL_CACHE_DIR ?? join(env.HOME ?? homedir(), '.cache', 'ahl'), 'venv', 'bin', 'ansible-playbook');
  if (existsSync(venv)) return venv;
  throw new ConvergeError('ANSIBLE_NOT_FOUND', 'ansible-playbook was not found', 'run scripts/bootstrap (it installs ansible-core), install ansible-core, or set AHL_ANSIBLE_PLAYBOOK');
}

/**
 * Turns ansible-playbook's stdout into masked events as they arrive: each callback line is parsed,
 * masked, kept, passed to `onEvent` and shown as per-host progress; other lines are kept as text.
 */
export function collectPlaybookEvents(o: { redactor: Redactor; reporter: Reporter; onEvent?: (e: AnsibleEvent) => void }): {
  events: AnsibleEvent[];
  other: string[];
  onLine: (line: string) => void;
} {
  const events: AnsibleEvent[] = [];
  const other: string[] = [];
  const onLine = (line: string) => {
    const e = parseEventLine(line);
    if (!e) {
      if (line.trim()) other.push(line);
      return;
    }
    const masked = o.redactor.redactDeep(e);
    events.push(masked);
    o.onEvent?.(masked);
    if (masked.event === 'host_task' && masked.status !== 'skipped')
      o.reporter.progress({
        step: masked.task,
        target: masked.host,
        status: masked.status === 'unreachable' ? 'failed' : masked.status,
        ...(masked.status === 'unreachable' ? { detail: `unreachable: ${masked.msg ?? ''}` } : masked.msg ? { detail: masked.msg } : {}),
      });
  };
  return { events, other, onLine };
}

/**
 * How one run executes, decided once and shared by every layer that drives ansible-playbook: the
 * strategy (mitogen when installed, see {@link chooseStrategy}) and, for a mitogen run under the
 * accept-new host key policy, the ssh wrapper that keeps that policy, written 0700 into the run's
 * private folder `dir`.
 */
export async function runSettings(lab: Lab, ansiblePlaybook: string, env: Readonly<Record<string, string | undefined>>, dir: string): Promise<{ strategy: AnsibleStrategy; sshExecutable?: string }> {
  const strategy = chooseStrategy(ansiblePlaybook, env);
  if (strategy.name !== 'mitogen_linear' || lab.config.ssh.hostKeyPolicy === 'strict') return { strategy };
  const sshExecutable = join(dir, SSH_WRAPPER);
  await writeFile(sshExecutable, acceptNewSshWrapper(), { mode: 0o700 });
  return { strategy, sshExecutable };
}

/** The real spawner: runs ansible-playbook with execa, streaming stdout lines to `onLine`. */
export const execaPlaybookSpawner: PlaybookSpawner = async (argv, { env, cwd, onLine }) => {
  const { execa } = await import('execa');
  const child = execa(argv[0]!, argv.slice(1), { env, cwd, reject: false, stdin: 'ignore', lines: false, buffer: { stdout: false, stderr: true } });
  let rest = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const l of lines) onLine(l);
  });
  const r = await child;
  if (rest) onLine(rest);
  return { exitCode: r.exitCode ?? -1, stderr: typeof r.stderr === 'string' ? r.stderr : '', ...(r.signal ? { signal: r.signal } : {}) };
};

/**
 * Converges the system of the selected hosts with the bundled playbook: renders the inventory into
 * a private temporary folder (removed afterwards), runs ansible-playbook and returns a result per
 * host. Hosts that fail or cannot be reached are results, not exceptions; a run that could not
 * complete (bad options, a crash) throws a ConvergeError naming the command.
 */
export async function convergeSystem(lab: Lab, opts: ConvergeOptions = {}): Promise<ConvergeResult> {
  const hosts = selectHosts(lab, opts.targets);
  // A full converge records on each host the digest of what it applied; a partial one (--tags) or a
  // --check records nothing.
  const vars = opts.check || opts.tags?.length ? undefined : { ahl_digests: Object.fromEntries(await Promise.all(hosts.map(async (h) => [h.name, await systemDigest(lab, h)]))), ahl_skip_unchanged: Boolean(opts.skipUnchanged) };
  const { unchanged, ...r } = await runSystemPlaybook(lab, 'site.yml', hosts.map((h) => h.name), opts, opts.check ? 'checking' : 'converging', vars, (dir, o) => labContent(lab, hosts, dir, o));
  return { ...r, hosts: r.hosts.map((h) => (unchanged.has(h.host) ? { ...h, unchanged: true } : h)) };
}

/** The gate task of site.yml: ok for a host means its converge was skipped as unchanged. */
const SKIP_TASK = 'Skip the converge, nothing changed since the last one';

export interface PendingReboot {
  readonly host: string;
  /** Undefined when the host could not be asked. */
  readonly pending?: boolean;
  /** Why the host could not be asked. */
  readonly message?: string;
}

/** Which of the selected hosts wait for a reboot (/run/reboot-required). Changes nothing. */
export async function pendingReboots(lab: Lab, opts: Omit<ConvergeOptions, 'check' | 'tags'> = {}): Promise<readonly PendingReboot[]> {
  const r = await runSystemPlaybook(lab, 'reboot_required.yml', selectHosts(lab, opts.targets).map((h) => h.name), opts, 'asking for pending reboots on');
  return r.hosts.map((h) =>
    h.status === 'unreachable' || h.status === 'failed'
      ? { host: h.host, message: h.unreachable ?? h.failed.map((f) => f.message).join('; ') }
      : { host: h.host, pending: h.changed.some((c) => c.task === 'Report a pending reboot') },
  );
}

/** How a run's private folder is readied for the lab's own content: what runs the galaxy installs. */
interface LabContentRun {
  readonly ansiblePlaybook: string;
  readonly env: Record<string, string>;
  readonly spawn: PlaybookSpawner;
  readonly redactor: Redactor;
}

/**
 * Lays out the lab's own roles for one run in its private folder `dir`: a link `lab-roles/NAME` to
 * each role folder that runs under its short name (see `labRoleNames`), the requirements of these
 * hosts installed with ansible-galaxy, and the folders holding the lab's roles last (for roles a lab
 * role names in its meta dependencies). Returns the roles and collections folders to search.
 */
export async function labContent(lab: Lab, hosts: readonly Host[], dir: string, o: LabContentRun): Promise<{ rolesPaths: string[]; collectionsPaths: string[] }> {
  const names = labRoleNames(lab);
  const links = join(dir, 'lab-roles');
  const parents = new Set<string>();
  if (names.size) await mkdir(links);
  for (const [folder, name] of names) {
    parents.add(dirname(labFile(lab, folder)));
    if (!name.startsWith('/')) await symlink(labFile(lab, folder), join(links, name));
  }
  const files = requirementFiles(hosts);
  const galaxy = files.length ? await installRequirements(lab, files, dir, { ansibleGalaxy: findAnsibleGalaxy(o.ansiblePlaybook), ...o }) : { rolesPaths: [], collectionsPaths: [] };
  return { rolesPaths: [...(names.size ? [links] : []), ...galaxy.rolesPaths, ...[...parents].sort()], collectionsPaths: [...galaxy.collectionsPaths] };
}

async function runSystemPlaybook(
  lab: Lab,
  playbook: string,
  hosts: readonly string[],
  opts: ConvergeOptions,
  verb: string,
  vars?: Record<string, unknown>,
  prepare?: (dir: string, o: LabContentRun) => Promise<{ rolesPaths: string[]; collectionsPaths: string[] }>,
): Promise<ConvergeResult & { unchanged: ReadonlySet<string> }> {
  const env = opts.env ?? process.env;
  const reporter = opts.reporter ?? silentReporter;
  const redactor = opts.redactor ?? new Redactor();
  const ansiblePlaybook = opts.ansiblePlaybook ?? findAnsiblePlaybook(env);
  const dir = await mkdtemp(join(tmpdir(), 'ahl-l3-'));
  try {
    await chmod(dir, 0o700);
    for (const [rel, text] of Object.entries(renderInventory(lab, opts.knownHostsFile ? { knownHostsFile: opts.knownHostsFile } : {}))) {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), text, { mode: 0o600 });
    }
    const spawn = opts.spawn ?? execaPlaybookSpawner;
    const paths = prepare ? await prepare(dir, { ansiblePlaybook, env: definedEnv(env), spawn, redactor }) : undefined;
    const wrap = opts.wrap ?? hostsWrap(lab);
    const varsFile = vars ? join(dir, 'ahl-vars.json') : undefined;
    if (varsFile) await writeFile(varsFile, JSON.stringify(vars), { mode: 0o600 });
    const invocation = {
      ansiblePlaybook,
      ...(await runSettings(lab, ansiblePlaybook, env, dir)),
      ...(varsFile ? { varsFile } : {}),
      contentDir: ANSIBLE_DIR,
      playbook,
      inventoryDir: dir,
      hosts,
      check: Boolean(opts.check),
      forks: opts.forks ?? Math.min(Math.max(hosts.length, 1), 20),
      ...(opts.tags ? { tags: opts.tags } : {}),
      ...(opts.waitHosts?.length ? { waitHosts: opts.waitHosts } : {}),
      ...(wrap ? { wrap } : {}),
      ...(paths?.rolesPaths.length ? { rolesPaths: paths.rolesPaths } : {}),
      ...(paths?.collectionsPaths.length ? { collectionsPaths: paths.collectionsPaths } : {}),
    };
    const argv = ansiblePlaybookArgv(invocation);
    const started = Date.now();
    reporter.info(`${verb} ${hosts.length} host${hosts.length === 1 ? '' : 's'}: ${hosts.join(', ')}`);
    const { events, other, onLine } = collectPlaybookEvents({ redactor, reporter, ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) });
    const { exitCode, stderr, signal } = await spawn(argv, {
      env: { ...definedEnv(env), ...ansibleEnv(invocation) },
      cwd: dir,
      onLine,
    });
    const hasStats = events.some((e) => e.event === 'stats');
    if (!PLAYBOOK_COMPLETED.has(exitCode) || !hasStats) {
      const output = redactor.redact([...other, stderr].filter(Boolean).join('\n')).slice(-8000);
      throw new ConvergeError(
        'ANSIBLE_FAILED',
        `${commandLine(argv.map((a) => redactor.redact(a)))} ${signal ? `was killed by ${signal}` : `exited with status ${exitCode}`} before it finished`,
        'read the output above; run again with the same command to reproduce, or with --check to see what would change',
        argv.map((a) => redactor.redact(a)),
        exitCode,
        output,
      );
    }
    const results = summarizeEvents(events, hosts);
    return {
      unchanged: new Set(events.filter((e) => e.event === 'host_task' && e.task === SKIP_TASK && e.status === 'ok').map((e) => (e as { host: string }).host)),
      check: Boolean(opts.check),
      ok: results.every((r) => r.status === 'ok' || r.status === 'changed'),
      hosts: results,
      command: argv.map((a) => redactor.redact(a)),
      exitCode,
      durationMs: Date.now() - started,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The variables of an environment that are set, as child processes take them. */
export function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
