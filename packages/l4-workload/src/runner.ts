import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ahlError, hostsWrap, Redactor, sha256, silentReporter, type Host, type Lab, type Reporter, type Secrets } from '@ahl/core';
import {
  commandLine,
  collectPlaybookEvents,
  ConvergeError,
  execaPlaybookSpawner,
  definedEnv,
  findAnsiblePlaybook,
  runSettings,
  PLAYBOOK_COMPLETED,
  summarizeEvents,
  type HostConvergeResult,
  type PlaybookOptions,
  type PlaybookSpawner,
} from '@ahl/l3-system';
import { workloadAnsibleEnv, workloadPlaybookArgv } from './command.js';
import type { WorkloadOperation } from './content.js';
import { workloadDigest } from './digest.js';
import { renderWorkloadInventory, type WorkloadInventoryInput } from './inventory.js';
import {
  freshness,
  lastJsonLine,
  parseDeployReport,
  parseScriptReport,
  parseStatusOutput,
  type BackupRecord,
  type DeployReport,
  type Freshness,
  type RestoreRecord,
  type ScriptReport,
} from './records.js';
import { backsUp, selectWorkloadHosts } from './targets.js';

export interface WorkloadRunOptions extends Omit<PlaybookOptions, 'redactor'> {
  /** Personas or hosts; none means every workload host. */
  readonly targets?: readonly string[];
  /** Resolves the workloads' secret references; its redactor masks every text ahl returns. */
  readonly secrets?: Secrets;
  /** Used when there is no `secrets` (nothing to resolve): masks results and errors. */
  readonly redactor?: Redactor;
}

interface RawRun {
  readonly hosts: readonly HostConvergeResult[];
  /** The content's JSON report per host, when it got that far. */
  readonly reports: Readonly<Record<string, string>>;
  readonly command: readonly string[];
  readonly exitCode: number;
  readonly durationMs: number;
}

/** The files directly inside each stack folder the hosts use (the content syncs them): name → sha256. */
async function listStackFiles(lab: Lab, hosts: readonly Host[]): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const name of [...new Set(hosts.flatMap((h) => h.workloads.map((w) => w.stack)))].sort()) {
    const stack = lab.stacks[name];
    if (!stack) continue;
    const dir = join(lab.root, stack.dir);
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.'));
    out[name] = Object.fromEntries(await Promise.all(entries.map(async (e) => [e.name, sha256(await readFile(join(dir, e.name)))] as const)));
  }
  return out;
}

/**
 * Renders the inventory into a private temporary folder (removed afterwards, secrets with it), runs
 * one playbook and collects events and the content's per-host reports. Hosts that fail or cannot be
 * reached are results; a run that could not complete throws a ConvergeError naming the command,
 * its exit status and its output, masked.
 */
async function runOperation(
  lab: Lab,
  operation: WorkloadOperation,
  hosts: readonly Host[],
  opts: WorkloadRunOptions,
  extra: Omit<WorkloadInventoryInput, 'hosts' | 'stackFiles' | 'resolveSecret' | 'reportDir' | 'knownHostsFile'> & { check?: boolean; record?: { skipUnchanged: boolean } },
): Promise<RawRun> {
  const env = opts.env ?? process.env;
  const reporter = opts.reporter ?? silentReporter;
  const redactor = opts.secrets?.redactor ?? opts.redactor ?? new Redactor();
  const ansiblePlaybook = opts.ansiblePlaybook ?? findAnsiblePlaybook(env);
  const names = hosts.map((h) => h.name);
  const stackFiles = await listStackFiles(lab, hosts);
  const dir = await mkdtemp(join(tmpdir(), 'ahl-l4-'));
  try {
    await chmod(dir, 0o700);
    const reportDir = join(dir, 'reports');
    await mkdir(reportDir, { mode: 0o700 });
    const { check, record, ...rest } = extra;
    const files = renderWorkloadInventory(lab, {
      ...rest,
      hosts,
      stackFiles,
      reportDir,
      // Only a deploy writes the stacks' .env files; nothing else resolves (or needs) a secret.
      ...(operation === 'deploy'
        ? {
            resolveSecret: (ref: string, field: string) => {
              if (!opts.secrets) throw ahlError('SECRET_MISSING', { ref, field });
              return opts.secrets.resolve(ref, field);
            },
          }
        : {}),
      ...(opts.knownHostsFile ? { knownHostsFile: opts.knownHostsFile } : {}),
    });
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, rel)), { recursive: true });
      await writeFile(join(dir, rel), text, { mode: 0o600 });
    }
    // A full deploy records on each host the digest of what it applied (see site.yml).
    const varsFile = record ? join(dir, 'ahl-vars.json') : undefined;
    if (varsFile) {
      const stackDir = (name: string) => join(lab.root, lab.stacks[name]?.dir ?? name);
      const digests = await Promise.all(hosts.map(async (h) => [h.name, await workloadDigest(files[`host_vars/${h.name}.yml`] ?? '', h.workloads.map((w) => stackDir(w.stack)))]));
      await writeFile(varsFile, JSON.stringify({ ahl_digests: Object.fromEntries(digests), ahl_skip_unchanged: record!.skipUnchanged }), { mode: 0o600 });
    }
    const wrap = opts.wrap ?? hostsWrap(lab);
    const invocation = {
      ansiblePlaybook,
      ...(await runSettings(lab, ansiblePlaybook, env, dir)),
      ...(varsFile ? { varsFile } : {}),
      operation,
      inventoryDir: dir,
      hosts: names,
      check: Boolean(check),
      forks: opts.forks ?? Math.min(Math.max(names.length, 1), 20),
      ...(wrap ? { wrap } : {}),
    };
    const argv = workloadPlaybookArgv(invocation);
    const masked = argv.map((a) => redactor.redact(a));
    const started = Date.now();
    reporter.info(`${operation}${check ? ' (check)' : ''} on ${names.length} host${names.length === 1 ? '' : 's'}: ${names.join(', ')}`);
    const { events, other, onLine } = collectPlaybookEvents({ redactor, reporter, ...(opts.onEvent ? { onEvent: opts.onEvent } : {}) });
    const { exitCode, stderr, signal } = await (opts.spawn ?? execaPlaybookSpawner)(argv, { env: { ...definedEnv(env), ...workloadAnsibleEnv(invocation) }, cwd: dir, onLine });
    if (!PLAYBOOK_COMPLETED.has(exitCode) || !events.some((e) => e.event === 'stats')) {
      throw new ConvergeError(
        'ANSIBLE_FAILED',
        `${commandLine(masked)} ${signal ? `was killed by ${signal}` : `exited with status ${exitCode}`} before it finished`,
        'read the output above; run the same command again to reproduce',
        masked,
        exitCode,
        redactor.redact([...other, stderr].filter(Boolean).join('\n')).slice(-8000),
      );
    }
    const reports: Record<string, string> = {};
    for (const n of names) {
      try {
        reports[n] = redactor.redact(await readFile(join(reportDir, `${n}.json`), 'utf8'));
      } catch {
        // No report: the host failed or was unreachable before the last task; its result says why.
      }
    }
    return { hosts: summarizeEvents(events, names), reports, command: masked, exitCode, durationMs: Date.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- deploy

export interface DeployOptions extends WorkloadRunOptions {
  /** Report what would change (`--check --diff`); change nothing. */
  readonly check?: boolean;
  /** Deploy only these stacks. */
  readonly stacks?: readonly string[];
  /** Remove deployed stacks that are no longer declared (their data stays). */
  readonly approve?: boolean;
  /** Seconds to wait for each stack's containers (default 180). */
  readonly deployTimeoutSec?: number;
  /**
   * Leave alone a host whose last full deploy recorded the digest of what it gets now and whose
   * stacks all run (`ahl up`). `ahl converge workload`, drift and reconcile always run in full.
   */
  readonly skipUnchanged?: boolean;
}

export interface HostDeployResult extends HostConvergeResult, Partial<DeployReport> {}

export interface DeployResult {
  readonly check: boolean;
  /** No host failed or was unreachable. */
  readonly ok: boolean;
  readonly hosts: readonly HostDeployResult[];
  readonly command: readonly string[];
  readonly exitCode: number;
  readonly durationMs: number;
}

/**
 * Deploys the stacks of the selected hosts (and installs their backup): syncs each stack, runs
 * Compose only for a stack that changed or is not running, waits for its containers, and lists
 * the deployed stacks no longer declared (removed only with `approve`).
 */
export async function deployWorkloads(lab: Lab, opts: DeployOptions = {}): Promise<DeployResult> {
  const hosts = selectWorkloadHosts(lab, opts.targets);
  if (opts.stacks?.length) {
    const declared = new Set(hosts.flatMap((h) => h.workloads.map((w) => w.stack)));
    const unknown = opts.stacks.find((s) => !declared.has(s));
    if (unknown) throw ahlError('USAGE', { message: `no selected host runs stack "${unknown}"; they run: ${[...declared].sort().join(', ') || '(none)'}`, command: 'converge workload' });
  }
  if (lab.config.backup?.target.kind === 'restic' && hosts.some((h) => h.backup !== undefined))
    (opts.reporter ?? silentReporter).warn('backup target kind restic is not supported yet: no backup timer is installed (use kind: rsync)');
  const run = await runOperation(lab, 'deploy', hosts, opts, {
    check: Boolean(opts.check),
    ...(opts.stacks?.length ? { stackFilter: opts.stacks } : {}),
    removeApproved: Boolean(opts.approve) && !opts.check,
    ...(opts.deployTimeoutSec ? { deployTimeoutSec: opts.deployTimeoutSec } : {}),
    // Only a deploy of every stack says what the host runs as a whole.
    ...(!opts.check && !opts.stacks?.length ? { record: { skipUnchanged: Boolean(opts.skipUnchanged) && !opts.approve } } : {}),
  });
  const results = run.hosts.map((h) => {
    const report = run.reports[h.host] ? parseDeployReport(run.reports[h.host]!) : undefined;
    return { ...h, ...(report ?? {}) };
  });
  return { check: Boolean(opts.check), ok: results.every((h) => h.status === 'ok' || h.status === 'changed'), hosts: results, command: run.command, exitCode: run.exitCode, durationMs: run.durationMs };
}

// ---------------------------------------------------------------- backup, restore, status

export type BackupHostStatus = 'ok' | 'failed' | 'unreachable';

export interface HostBackupResult {
  readonly host: string;
  readonly status: BackupHostStatus;
  readonly record?: BackupRecord;
  /** Why it failed: the script's stderr or Ansible's message, masked. */
  readonly message?: string;
}

export interface BackupResult {
  readonly ok: boolean;
  readonly hosts: readonly HostBackupResult[];
  readonly command: readonly string[];
  readonly durationMs: number;
}

function scriptOutcome(h: HostConvergeResult, report: ScriptReport | undefined): { status: 'ran' | 'failed' | 'unreachable'; message?: string } {
  if (h.status === 'unreachable') return { status: 'unreachable', message: h.unreachable ?? 'unreachable' };
  if (!report) return { status: 'failed', message: h.failed.map((f) => `${f.task}: ${f.message}`).join('\n') || 'no report from the host' };
  return { status: 'ran' };
}

/** Runs the backup of the selected hosts now (the script their timer runs) and returns each record. */
export async function backupNow(lab: Lab, opts: WorkloadRunOptions = {}): Promise<BackupResult> {
  const hosts = backupHosts(lab, opts.targets, 'backup');
  const run = await runOperation(lab, 'backup', hosts, opts, {});
  const results = run.hosts.map((h): HostBackupResult => {
    const report = run.reports[h.host] ? parseScriptReport(run.reports[h.host]!) : undefined;
    const o = scriptOutcome(h, report);
    if (o.status !== 'ran') return { host: h.host, status: o.status, ...(o.message ? { message: o.message } : {}) };
    const record = lastJsonLine<BackupRecord>(report!.stdout);
    return report!.rc === 0 && record?.status === 'ok'
      ? { host: h.host, status: 'ok', record }
      : { host: h.host, status: 'failed', message: `ahl-backup exited with status ${report!.rc}: ${report!.stderr.trim().split('\n').slice(-5).join('\n')}` };
  });
  return { ok: results.every((r) => r.status === 'ok'), hosts: results, command: run.command, durationMs: run.durationMs };
}

export type RestoreHostStatus = 'ok' | 'refused' | 'missing' | 'mismatch' | 'failed' | 'unreachable';

export interface HostRestoreResult {
  readonly host: string;
  /** refused: a data folder was not empty and there was no approval; missing: no such backup. */
  readonly status: RestoreHostStatus;
  readonly record?: RestoreRecord;
  readonly message?: string;
}

export interface RestoreOptions extends WorkloadRunOptions {
  /** The snapshot id to restore (default: the latest). */
  readonly snapshot?: string;
  /** Overwrite data folders that are not empty. */
  readonly approve?: boolean;
}

export interface RestoreResult {
  readonly ok: boolean;
  readonly hosts: readonly HostRestoreResult[];
  readonly command: readonly string[];
  readonly durationMs: number;
}

/**
 * Puts the latest (or a chosen) backup back on the selected hosts, with their stacks stopped, and
 * starts the stacks that were running again. A data folder that is not empty is overwritten only
 * with `approve`; otherwise the host's result is `refused` and nothing changed there.
 */
export async function restoreWorkloads(lab: Lab, opts: RestoreOptions = {}): Promise<RestoreResult> {
  if (opts.snapshot !== undefined && !/^\d{8}T\d{6}Z$/.test(opts.snapshot))
    throw ahlError('USAGE', { message: `"${opts.snapshot}" is not a snapshot id (like 20261126T031500Z)`, command: 'restore' });
  const hosts = backupHosts(lab, opts.targets, 'restore');
  const run = await runOperation(lab, 'restore', hosts, opts, { restore: { ...(opts.snapshot ? { snapshot: opts.snapshot } : {}), force: Boolean(opts.approve) } });
  const results = run.hosts.map((h): HostRestoreResult => {
    const report = run.reports[h.host] ? parseScriptReport(run.reports[h.host]!) : undefined;
    const o = scriptOutcome(h, report);
    if (o.status !== 'ran') return { host: h.host, status: o.status, ...(o.message ? { message: o.message } : {}) };
    const r = report!;
    const message = r.stderr.trim().split('\n').slice(-3).join('\n');
    const record = lastJsonLine<RestoreRecord>(r.stdout);
    const status: RestoreHostStatus = r.rc === 0 ? 'ok' : r.rc === 3 ? 'refused' : r.rc === 4 ? 'missing' : r.rc === 5 ? 'mismatch' : 'failed';
    return { host: h.host, status, ...(record ? { record } : {}), ...(status === 'ok' ? {} : { message: message || `ahl-restore exited with status ${r.rc}` }) };
  });
  return { ok: results.every((r) => r.status === 'ok'), hosts: results, command: run.command, durationMs: run.durationMs };
}

export interface HostBackupStatus extends Freshness {
  readonly host: string;
  readonly status: 'ok' | 'failed' | 'unreachable';
  readonly last?: BackupRecord;
  readonly lastFailure?: BackupRecord;
  readonly lastRestore?: RestoreRecord;
  readonly message?: string;
}

/** Reads back each selected host's backup records, and how fresh its last good backup is. Changes nothing. */
export async function backupStatus(lab: Lab, opts: WorkloadRunOptions & { now?: Date } = {}): Promise<{ hosts: readonly HostBackupStatus[]; command: readonly string[] }> {
  const hosts = backupHosts(lab, opts.targets, 'backup');
  const run = await runOperation(lab, 'status', hosts, opts, {});
  const now = opts.now ?? new Date();
  return {
    command: run.command,
    hosts: run.hosts.map((h): HostBackupStatus => {
      const maxAge = hosts.find((x) => x.name === h.host)?.backup?.maxAge ?? '26h';
      const report = run.reports[h.host] ? parseScriptReport(run.reports[h.host]!) : undefined;
      const o = scriptOutcome(h, report);
      if (o.status !== 'ran') return { host: h.host, status: o.status, fresh: false, maxAge, ...(o.message ? { message: o.message } : {}) };
      const recs = parseStatusOutput(report!.stdout);
      return { host: h.host, status: 'ok', ...recs, ...freshness(recs.last, maxAge, now) };
    }),
  };
}

/** The selected hosts that have something to back up; an error when the lab has no rsync target or none of them has data. */
function backupHosts(lab: Lab, targets: readonly string[] | undefined, command: string): Host[] {
  const target = lab.config.backup?.target;
  if (!target) throw ahlError('BACKUP_TARGET_MISSING', { command });
  if (target.kind !== 'rsync') throw ahlError('BACKUP_TARGET_UNSUPPORTED', { kind: target.kind });
  const hosts = selectWorkloadHosts(lab, targets, command).filter(backsUp);
  if (!hosts.length) throw ahlError('NOTHING_TO_BACK_UP', { command });
  return hosts;
}
