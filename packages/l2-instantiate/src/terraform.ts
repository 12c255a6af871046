import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import {
  ahlError,
  labToken,
  manifestForChannel,
  readImageRecords,
  Redactor,
  silentReporter,
  vmHosts,
  type FingerprintMismatchError,
  type Lab,
  type Reporter,
  type Secrets,
  type TemplateManifest,
} from '@ahl/core';
import { parseUiLine, summarisePlan, type PlanSummary, type TfDiagnostic, type TfPlanJson } from './plan.js';
import { isPlanDir } from './plan-dir.js';
import { BPG_PROVIDER, hostAddress, PLAN_FILE, VM_RESOURCE, renderTerraform, resourceName, terraformDir, type ExistingVm, type RenderedHost, type RenderedModule, type UnresolvedHost } from './render.js';
import { startPinnedRelay, type PinnedRelay } from './tls-relay.js';

/*
 * The effectful half of L2: writes the rendered module, runs terraform (or tofu) in it and reads its
 * machine output. Endpoint, token and state credentials reach Terraform only through its environment,
 * and everything it prints passes the redactor.
 */

type Env = Readonly<Record<string, string | undefined>>;

export interface TerraformOptions {
  /** The caller's environment (default process.env): where terraform is looked up, and AHL_CACHE_DIR. */
  readonly env?: Env;
  readonly reporter?: Reporter;
  readonly redactor?: Redactor;
  /** Stops Terraform (SIGINT: it finishes the resource it is on and saves state). */
  readonly signal?: AbortSignal;
}

/** A rendered, initialised module, ready to plan. */
export interface Workspace {
  readonly lab: Lab;
  readonly dir: string;
  readonly bin: string;
  readonly module: RenderedModule;
  /** The environment Terraform runs with (holds the token: never print it). */
  readonly env: Readonly<Record<string, string>>;
  readonly opts: TerraformOptions;
}

const cacheDir = (env: Env) => env.AHL_CACHE_DIR ?? join(env.HOME ?? homedir(), '.cache', 'ahl');

/** terraform or tofu: `AHL_TERRAFORM`, then `terraform` on PATH, then `tofu`. */
export function findTerraform(env: Env = process.env): string {
  if (env.AHL_TERRAFORM) {
    if (existsSync(env.AHL_TERRAFORM)) return env.AHL_TERRAFORM;
    throw ahlError('TERRAFORM_NOT_FOUND', {});
  }
  for (const name of ['terraform', 'tofu'])
    for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) if (existsSync(join(dir, name))) return join(dir, name);
  throw ahlError('TERRAFORM_NOT_FOUND', {});
}

/**
 * The filesystem mirror scripts/bootstrap builds the pinned provider into, when it holds it; without
 * one Terraform installs the provider from its registry as usual.
 */
export function providerMirror(env: Env = process.env): string | undefined {
  const mirror = join(cacheDir(env), 'terraform', 'mirror');
  const dir = join(mirror, 'registry.terraform.io', ...BPG_PROVIDER.source.split('/'), BPG_PROVIDER.version);
  return existsSync(dir) ? mirror : undefined;
}

/** The template each VM host clones, from its channel's manifest (undefined: nothing built yet). */
export async function channelTemplates(lab: Lab): Promise<Record<string, TemplateManifest | undefined>> {
  const out: Record<string, TemplateManifest | undefined> = {};
  const records = new Map<string, Awaited<ReturnType<typeof readImageRecords>>>();
  for (const h of vmHosts(lab)) {
    const t = h.template;
    if (t.ref in out) continue;
    if (!records.has(t.image)) records.set(t.image, await readImageRecords(lab.recordsRoot, t.image));
    out[t.ref] = manifestForChannel(records.get(t.image)!, t.channel);
  }
  return out;
}

/** Terraform's environment: the token and endpoint, state credentials, the mirror, no prompts. */
export function terraformEnv(lab: Lab, secrets: Secrets, dir: string, env: Env = process.env): Record<string, string> {
  const p = lab.config.proxmox;
  const { tokenId, tokenSecret } = labToken(lab.config, secrets);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('PROXMOX_VE_') && !k.startsWith('TF_')) out[k] = v;
  Object.assign(out, {
    PROXMOX_VE_ENDPOINT: p.endpoint.endsWith('/') ? p.endpoint : `${p.endpoint}/`,
    PROXMOX_VE_API_TOKEN: `${tokenId}=${tokenSecret}`,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    TF_PLUGIN_CACHE_DIR: join(cacheDir(env), 'terraform', 'plugin-cache'),
  });
  if (env.TF_LOG) out.TF_LOG = env.TF_LOG;
  if (providerMirror(env)) out.TF_CLI_CONFIG_FILE = join(dir, 'cli.tfrc');
  if (p.tls.ca) out.SSL_CERT_FILE = isAbsolute(p.tls.ca) ? p.tls.ca : resolve(lab.root, p.tls.ca);
  const state = lab.config.state;
  if (state.backend === 's3') {
    out.AWS_ACCESS_KEY_ID = secrets.resolve(state.accessKeyId, 'state.accessKeyId');
    out.AWS_SECRET_ACCESS_KEY = secrets.resolve(state.secretAccessKey, 'state.secretAccessKey');
  }
  return out;
}

/**
 * Renders the lab into its Terraform folder and runs `terraform init` when the module's settings
 * (backend, provider) or the binary changed since the last init. `dir`: a folder from openPlanDir
 * instead, for a run that only plans (its workspace can never apply).
 */
export async function prepareWorkspace(lab: Lab, secrets: Secrets, opts: TerraformOptions & { existing?: readonly ExistingVm[]; dir?: string } = {}): Promise<Workspace> {
  const env = opts.env ?? process.env;
  const bin = findTerraform(env);
  const dir = opts.dir ?? terraformDir(lab);
  const templates = await channelTemplates(lab);
  const existing = opts.existing ?? [];
  let module = renderTerraform(lab, templates, { existing });
  await mkdir(dir, { recursive: true });
  const write = async () => {
    for (const [name, text] of Object.entries(module.files)) await writeFile(join(dir, name), text);
  };
  await write();
  const mirror = providerMirror(env);
  if (mirror) {
    const rc = `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }\n  direct {\n    exclude = ["registry.terraform.io/bpg/*", "registry.opentofu.org/bpg/*"]\n  }\n}\n`;
    await writeFile(join(dir, 'cli.tfrc'), rc);
  }
  const tfEnv = terraformEnv(lab, secrets, dir, env);
  await mkdir(tfEnv.TF_PLUGIN_CACHE_DIR!, { recursive: true });
  const ws: Workspace = { lab, dir, bin, module, env: tfEnv, opts };
  const settings = JSON.parse(module.files['main.tf.json']!) as { terraform: unknown };
  const stamp = createHash('sha256').update(JSON.stringify([bin, settings.terraform, mirror ?? ''])).digest('hex');
  const stampFile = join(dir, '.terraform', 'ahl-init');
  const done = await readFile(stampFile, 'utf8').catch(() => '');
  if (done !== stamp) {
    reporter(ws).info(`terraform init in ${dir}`);
    await run(ws, ['init', '-input=false', '-no-color', '-reconfigure']);
    await writeFile(stampFile, stamp);
  }
  // VMs that exist for hosts but that the state does not hold are imported, not created twice.
  if (opts.existing?.length) {
    const listed = await run(ws, ['state', 'list', '-no-color'], { ok: [0, 1] });
    const known = new Set(listed.exitCode === 0 ? listed.stdout.split('\n').map((l) => l.trim()) : []);
    const adopt = opts.existing.filter((e) => !known.has(hostAddress(e.host)));
    if (adopt.length) {
      module = renderTerraform(lab, templates, { adopt, existing });
      await write();
      return { ...ws, module };
    }
  }
  return ws;
}

const reporter = (ws: Workspace) => ws.opts.reporter ?? silentReporter;
const redactor = (ws: Workspace) => ws.opts.redactor ?? new Redactor();

interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly diagnostics: readonly TfDiagnostic[];
}

/**
 * Runs terraform with `args` in the workspace. With `-json` in args, each UI line goes to `onEvent`
 * and diagnostics are collected. Exit codes in `ok` are results; any other throws TERRAFORM_FAILED
 * with the diagnostics (masked).
 */
async function run(
  ws: Workspace,
  args: readonly string[],
  o: { ok?: readonly number[]; onLine?: (line: string) => void; labChanged?: () => boolean } = {},
): Promise<RunResult> {
  const diagnostics: TfDiagnostic[] = [];
  const mask = redactor(ws);
  const command = `${ws.bin.split('/').pop()} ${args.filter((a) => !a.startsWith('-out=')).join(' ')}`;
  const relayed = await relayFor(ws, args, command);
  try {
    const { execa } = await import('execa');
    const child = execa(ws.bin, args, {
      cwd: ws.dir,
      env: relayed?.env ?? ws.env,
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      buffer: { stdout: !o.onLine, stderr: true },
      ...(ws.opts.signal ? { cancelSignal: ws.opts.signal, killSignal: 'SIGINT' as const, forceKillAfterDelay: 60_000 } : {}),
    });
    if (o.onLine) {
      let rest = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop()!;
        for (const l of lines) handle(l);
      });
      child.stdout?.on('end', () => rest && handle(rest));
    }
    function handle(line: string) {
      const e = parseUiLine(line);
      if (e?.type === 'diagnostic') diagnostics.push(mask.redactDeep(e.diagnostic));
      o.onLine?.(line);
    }
    const r = await child;
    const exitCode = r.exitCode ?? -1;
    if (r.isCanceled) ws.opts.signal?.throwIfAborted();
    if (!(o.ok ?? [0]).includes(exitCode)) {
      const relay = relayed?.relay;
      // Nothing reached the server when the relay passed no connection on.
      const labChanged = relay?.forwarded === 0 ? false : (o.labChanged?.() ?? false);
      if (relay?.refused) throw pinRefused(ws, command, relay.refused, true, labChanged);
      const stderr = mask.redact(typeof r.stderr === 'string' ? r.stderr : '').trim();
      const errors = diagnostics.filter((d) => d.severity === 'error');
      const first = errors[0] ?? (stderr ? { summary: stderr.split('\n').find((l) => l.trim())!.replace(/^│?\s*(Error:\s*)?/, '') } : { summary: 'no diagnostics' });
      const unreachable = relay?.unreachable ? ` (ahl's TLS relay could not reach ${ws.lab.config.proxmox.endpoint}: ${relay.unreachable})` : '';
      throw ahlError(
        'TERRAFORM_FAILED',
        { command, exitCode: r.signal ?? exitCode, diagnostic: [first.summary, 'detail' in first && first.detail ? first.detail : ''].filter(Boolean).join(': ') + unreachable },
        { labChanged, details: { command, exitCode, diagnostics: errors.length ? errors : diagnostics, ...(stderr && !errors.length ? { stderr } : {}) } },
      );
    }
    return { exitCode, stdout: typeof r.stdout === 'string' ? r.stdout : '', diagnostics };
  } finally {
    await relayed?.close();
  }
}

/** Terraform subcommands that never configure the provider, and so never reach the endpoint. */
const OFFLINE_COMMANDS = new Set(['fmt', 'init', 'output', 'providers', 'show', 'state', 'validate', 'version', 'workspace']);

/**
 * Terraform's environment when it reaches the endpoint through a pinned relay: the relay is the
 * endpoint, and `trustFile` (the relay's certificate, then any bundle the environment named) is the
 * CA file Go reads on Linux. Go also keeps reading the system's CA directories: the s3 backend still
 * verifies its server, and no public CA certifies 127.0.0.1.
 */
export function relayedTerraformEnv(env: Readonly<Record<string, string>>, relayEndpoint: string, trustFile: string): Record<string, string> {
  return { ...env, PROXMOX_VE_ENDPOINT: relayEndpoint, SSL_CERT_FILE: trustFile };
}

/**
 * For a lab that pins its server's certificate, a relay for this one Terraform process (see
 * tls-relay.ts), after checking once that the endpoint presents the pinned certificate: another
 * certificate refuses the run before Terraform starts. Undefined when nothing is pinned (Terraform
 * verifies, or not, as `tls.verify` says) or the command never reaches the endpoint.
 */
async function relayFor(ws: Workspace, args: readonly string[], command: string): Promise<{ relay: PinnedRelay; env: Record<string, string>; close: () => Promise<void> } | undefined> {
  const p = ws.lab.config.proxmox;
  if (!p.tls.fingerprint || !p.endpoint.startsWith('https:') || OFFLINE_COMMANDS.has(args[0] ?? '')) return undefined;
  const relay = await startPinnedRelay({ endpoint: p.endpoint, fingerprint: p.tls.fingerprint });
  let dir: string | undefined;
  const close = async () => {
    await relay.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  try {
    const first = await relay.check();
    if (!first.ok && 'mismatch' in first) throw pinRefused(ws, command, first.mismatch, false, false);
    dir = await mkdtemp(join(tmpdir(), 'ahl-relay-'));
    const trustFile = join(dir, 'trust.pem');
    const named = ws.env.SSL_CERT_FILE ? await readFile(ws.env.SSL_CERT_FILE, 'utf8').catch(() => '') : '';
    await writeFile(trustFile, named ? `${relay.cert}\n${named}` : relay.cert);
    return { relay, env: relayedTerraformEnv(ws.env, relay.endpoint, trustFile), close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The pinned certificate was not the one presented: before Terraform started, or to one of its connections. */
function pinRefused(ws: Workspace, command: string, mismatch: FingerprintMismatchError, started: boolean, labChanged: boolean) {
  const endpoint = ws.lab.config.proxmox.endpoint;
  const tool = command.split(' ').slice(0, 2).join(' ');
  return ahlError(
    'TLS_PIN_MISMATCH',
    { endpoint, expected: mismatch.expected, actual: mismatch.actual, stage: started ? `ahl's TLS relay refused ${tool} a connection` : `ahl did not start ${tool}` },
    { labChanged, cause: mismatch, details: { command, endpoint, expected: mismatch.expected, actual: mismatch.actual } },
  );
}

export interface L2Plan {
  readonly summary: PlanSummary;
  /** The saved plan, which `applyPlan` applies and nothing else. */
  readonly planFile: string;
  /** The hosts in the module that were asked for, with the template each would clone. */
  readonly rendered: readonly RenderedHost[];
  /** Hosts asked for that cannot be planned: their template is not built. */
  readonly unresolved: readonly UnresolvedHost[];
  /** The plan was limited with -target (to hosts, or because some templates are missing). */
  readonly targeted: boolean;
  readonly warnings: readonly TfDiagnostic[];
}

/**
 * `terraform plan -out` for the given hosts (all VM hosts when none; `replace`: destroy and create
 * them again; `destroy`: destroy them), then `show -json` of that
 * plan, summarised per host. Hosts whose template is not built are left out and listed; when any
 * is, the plan is targeted, so Terraform never plans to destroy a VM merely missing from the module.
 */
export async function planHosts(ws: Workspace, opts: { hosts?: readonly string[]; destroy?: boolean; replace?: boolean; refresh?: boolean } = {}): Promise<L2Plan> {
  const wanted = opts.hosts ? new Set(opts.hosts) : undefined;
  const unresolved = opts.destroy ? [] : ws.module.unresolved.filter((u) => !wanted || wanted.has(u.host));
  const rendered = ws.module.hosts.filter((h) => !wanted || wanted.has(h.host));
  const targeted = wanted !== undefined || ws.module.unresolved.length > 0;
  // A destroy works from the state: a host that left the intent (or whose template is gone) has no
  // resource block, and is targeted by its address all the same.
  const targets = opts.destroy && wanted ? [...wanted].sort().map(hostAddress) : rendered.map((h) => h.address);
  if (targeted && targets.length === 0)
    return { summary: { hosts: [], counts: { create: 0, update: 0, replace: 0, delete: 0, 'no-op': 0 }, changes: false }, planFile: '', rendered, unresolved, targeted, warnings: [] };
  const planFile = join(ws.dir, PLAN_FILE);
  await rm(planFile, { force: true });
  const args = ['plan', '-input=false', '-json', '-lock-timeout=60s', `-out=${PLAN_FILE}`, '-detailed-exitcode'];
  if (opts.destroy) args.push('-destroy');
  if (opts.refresh === false) args.push('-refresh=false');
  if (targeted) for (const t of targets) args.push(`-target=${t}`);
  // A rebuild: destroy and create again, from the template the channel points at now.
  if (opts.replace) for (const h of rendered) args.push(`-replace=${h.address}`);
  reporter(ws).info(`planning ${targeted ? rendered.map((h) => h.host).join(', ') : 'every VM'} with terraform`);
  const r = await run(ws, args, { ok: [0, 2], onLine: () => {} });
  const show = await run(ws, ['show', '-json', '-no-color', PLAN_FILE]);
  const names = new Map<string, string>();
  for (const h of vmHosts(ws.lab)) names.set(resourceName(h.name), h.name);
  const summary = summarisePlan(redactor(ws).redactDeep(JSON.parse(show.stdout) as TfPlanJson), (n) => names.get(n) ?? (n.startsWith('h_') ? n.slice(2) : n));
  return { summary, planFile, rendered, unresolved, targeted, warnings: r.diagnostics.filter((d) => d.severity === 'warning') };
}

export interface AppliedHost {
  readonly host: string;
  readonly action: string;
  readonly state: 'done' | 'failed';
  readonly seconds?: number;
}

export interface L2Apply {
  readonly hosts: readonly AppliedHost[];
  readonly durationMs: number;
}

/**
 * Applies exactly the saved plan (never a fresh one), streaming per-host progress. A failure throws
 * TERRAFORM_FAILED whose details hold the diagnostics; `labChanged` says whether any VM was touched.
 */
export async function applyPlan(ws: Workspace, plan: L2Plan): Promise<L2Apply> {
  if (isPlanDir(ws.dir)) throw ahlError('INTERNAL', { message: `a plan made in the plan-only folder ${ws.dir} cannot be applied` });
  const shrinks = plan.summary.hosts.flatMap((h) => h.resizes.filter((r) => r.to < r.from).map((r) => `${h.host}'s ${r.slot} (${r.from} → ${r.to} GiB)`));
  if (shrinks.length) throw ahlError('DISK_SHRINK', { disks: shrinks.join(', ') });
  const started = Date.now();
  const rep = reporter(ws);
  const byAddress = new Map(plan.summary.hosts.map((h) => [h.address, h.host]));
  const results = new Map<string, AppliedHost>();
  let touched = false;
  const onLine = (line: string) => {
    const e = parseUiLine(line);
    if (!e || !('address' in e) || !e.address.startsWith(`${VM_RESOURCE}.`)) return;
    const host = byAddress.get(e.address) ?? e.address;
    if (e.type === 'apply_start') {
      touched = true;
      rep.progress({ step: e.action, target: host, status: 'start' });
    } else if (e.type === 'apply_complete') {
      results.set(host, { host, action: e.action, state: 'done', ...(e.elapsed !== undefined ? { seconds: e.elapsed } : {}) });
      rep.progress({ step: e.action, target: host, status: 'changed', ...(e.elapsed !== undefined ? { detail: `${e.elapsed}s` } : {}) });
    } else if (e.type === 'apply_errored') {
      results.set(host, { host, action: e.action, state: 'failed' });
      rep.progress({ step: e.action, target: host, status: 'failed' });
    }
  };
  try {
    await run(ws, ['apply', '-input=false', '-json', '-lock-timeout=60s', PLAN_FILE], { onLine, labChanged: () => touched });
  } finally {
    await rm(plan.planFile, { force: true });
  }
  return { hosts: [...results.values()].sort((a, b) => a.host.localeCompare(b.host)), durationMs: Date.now() - started };
}
