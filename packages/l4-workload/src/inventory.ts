import { ahlError, labFile, sshUser, type Host, type Lab, type WorkloadSpec } from '@ahl/core';
import { groupName, inventoryYaml, osFamily, sshCommonArgs } from '@ahl/l3-system';
import { BACKUP_TARGET_HOST } from './content.js';

/** Rendered files, by path relative to the inventory folder: `inventory.yml` and `host_vars/HOST.yml`. */
export type InventoryFiles = Readonly<Record<string, string>>;

/** Everything besides the lab that the inventory is rendered from; the runner gathers it. */
export interface WorkloadInventoryInput {
  /** The hosts to render, already selected. */
  readonly hosts: readonly Host[];
  /**
   * The files directly inside each stack folder (`stacks/NAME/`), as the runner listed them: file
   * name → sha256 of its bytes. The content compares a copied file's digest with the one on the
   * host, so an unchanged stack costs no transfer.
   */
  readonly stackFiles: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * Resolves a secret reference. Called only for the workloads of the hosts rendered; the value
   * lands in a host_vars file of the run's private folder and in the stack's `.env` (mode 0600).
   * Without it no stack environment is rendered: backup, restore and status need none.
   */
  readonly resolveSecret?: (ref: string, field: string) => string;
  /** Where the content writes its per-host JSON report (the run's private folder). */
  readonly reportDir: string;
  /** Deploy only these stacks (`--stack`); the others are left alone. */
  readonly stackFilter?: readonly string[];
  /** Remove the deployed stacks no longer declared (`--approve`). */
  readonly removeApproved?: boolean;
  /** Seconds to wait for a stack's containers to run (and be healthy). */
  readonly deployTimeoutSec?: number;
  readonly restore?: { readonly snapshot?: string; readonly force?: boolean };
  readonly knownHostsFile?: string;
}

const HEADER = '# Rendered by ahl (L4 workload) from the lab files; edits here are lost.\n';
const ENV_SAFE = /^[A-Za-z0-9_./:@+,=%-]*$/;

/** A stack file as the content syncs it: copied (with its sha256) or, for `*.j2`, rendered per host. */
export type StackFile = { src: string; dest: string; template: true } | { src: string; dest: string; template: false; sha256: string };

/**
 * Files of a stack the content syncs (name → sha256): hidden files and a local `.env` are never
 * copied (ahl writes `.env`); a template's digest is of what it renders to, taken on the controller.
 */
export function stackFileList(files: Readonly<Record<string, string>>): StackFile[] {
  return Object.keys(files)
    .filter((n) => !n.startsWith('.'))
    .sort()
    .map((n) => (n.endsWith('.j2') ? { src: n, dest: n.slice(0, -3), template: true } : { src: n, dest: n, template: false, sha256: files[n]! }));
}

/**
 * A stack's `.env`: its env values and resolved secrets, sorted, one KEY=VALUE a line. Values that
 * are not plain are single-quoted (literal for Compose v1 and v2); a value with a newline or a
 * single quote cannot be written safely and is an error naming the variable, never the value.
 */
export function renderEnvFile(values: Readonly<Record<string, string>>): string {
  return Object.keys(values)
    .sort()
    .map((k) => {
      const v = values[k]!;
      if (/[\n\r'\u0000]/.test(v))
        throw ahlError('VALUE_UNSAFE', { what: `the value of ${k}`, target: 'a Compose .env file', reason: 'it holds a newline, a single quote or NUL, which a .env line cannot carry' });
      return `${k}=${ENV_SAFE.test(v) ? v : `'${v}'`}\n`;
    })
    .join('');
}

/** The data folders a host backs up: workload data marked backup plus the policy's extra paths. */
export function backupPaths(host: Host): string[] {
  const paths = host.workloads.flatMap((w) => w.data.filter((d) => d.backup).map((d) => d.path)).concat(host.backup?.paths ?? []);
  return [...new Set(paths)].sort();
}

/** The stacks stopped while a host's data is copied: each workload's own `quiesce`, else the policy's. */
export function quiescedStacks(host: Host): string[] {
  return host.workloads.filter((w) => w.quiesce ?? host.backup?.quiesce ?? false).map((w) => w.stack).sort();
}

function envOf(w: WorkloadSpec): Record<string, string> {
  return Object.fromEntries(Object.entries(w.env).map(([k, v]) => [k, String(v)]));
}

/** The variables the bundled roles read for one host. Secrets are resolved through `input`. */
export function workloadHostVars(lab: Lab, host: Host, input: WorkloadInventoryInput): Record<string, unknown> {
  const target = lab.config.backup?.target;
  const paths = backupPaths(host);
  const stacks = host.workloads.map((w) => {
    const stack = lab.stacks[w.stack];
    if (!stack) throw ahlError('INTERNAL', { message: `stack ${w.stack} is not in the lab` });
    return {
      data: w.data.map((d) => ({ backup: d.backup, path: d.path })),
      env: envOf(w),
      files: stackFileList(input.stackFiles[w.stack] ?? {}),
      name: w.stack,
      services: [...(stack.services ?? [])],
      src: labFile(lab, stack.dir),
    };
  });
  const resolve = input.resolveSecret;
  const stackEnv = resolve
    ? Object.fromEntries(
        host.workloads.map((w, i) => {
          const secrets = Object.fromEntries(Object.entries(w.secrets).map(([k, ref]) => [k, resolve(ref, `personas/${host.persona}.yaml workloads[${i}].secrets.${k}`)]));
          return [w.stack, renderEnvFile({ ...envOf(w), ...secrets })];
        }),
      )
    : {};
  return {
    // Only an rsync target is installed by the content; a restic target leaves backup off (see the README).
    ahl_backup:
      target?.kind === 'rsync' && (host.backup !== undefined || paths.length > 0)
        ? {
            keep: host.backup?.keep ?? 7,
            paths,
            quiesce: quiescedStacks(host),
            schedule: host.backup?.schedule ?? 'daily',
            target: { host: target.host, path: target.path, port: target.port, user: target.user ?? sshUser(lab) },
          }
        : null,
    ahl_deploy_timeout: input.deployTimeoutSec ?? 180,
    ahl_remove_approved: Boolean(input.removeApproved),
    ahl_restore_force: Boolean(input.restore?.force),
    ahl_restore_snapshot: input.restore?.snapshot ?? null,
    ahl_stack_env: stackEnv,
    ahl_stack_filter: input.stackFilter ? [...input.stackFilter].sort() : null,
    ahl_stacks: stacks,
    ahl_stacks_root: lab.config.workloads.root,
  };
}

/**
 * Renders the L4 inventory: the selected hosts with L3's connection settings and groups, the
 * lab's backup host as `ahl_backup_target` (never targeted, only delegated to), and the workload
 * settings as host_vars. Pure and deterministic apart from the secrets `resolveSecret` returns.
 */
export function renderWorkloadInventory(lab: Lab, input: WorkloadInventoryInput): InventoryFiles {
  const user = sshUser(lab);
  const groups = new Map<string, string[]>();
  const add = (g: string, h: string) => groups.set(g, [...(groups.get(g) ?? []), h]);
  const hosts: Record<string, Record<string, string>> = {};
  for (const h of input.hosts) {
    hosts[h.name] = { ansible_host: h.ip?.address ?? h.name, ansible_user: user };
    add(groupName('persona_', h.persona), h.name);
    add(groupName('os_', osFamily(lab, h)), h.name);
  }
  const target = lab.config.backup?.target;
  if (target?.kind === 'rsync') hosts[BACKUP_TARGET_HOST] = { ansible_host: target.host, ansible_user: user };
  const vars: Record<string, string> = {
    ahl_report_dir: input.reportDir,
    ansible_python_interpreter: '/usr/bin/python3',
    ansible_ssh_common_args: sshCommonArgs(lab, input.knownHostsFile ? { knownHostsFile: input.knownHostsFile } : {}),
  };
  if (lab.config.ssh.privateKey) vars.ansible_ssh_private_key_file = labFile(lab, lab.config.ssh.privateKey);
  const inventory = {
    all: {
      children: Object.fromEntries([...groups].sort(([a], [b]) => a.localeCompare(b)).map(([g, hs]) => [g, { hosts: Object.fromEntries(hs.sort().map((h) => [h, null])) }])),
      hosts,
      vars,
    },
  };
  const files: Record<string, string> = { 'inventory.yml': HEADER + inventoryYaml(inventory) };
  for (const h of input.hosts) files[`host_vars/${h.name}.yml`] = HEADER + inventoryYaml(workloadHostVars(lab, h, input));
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

