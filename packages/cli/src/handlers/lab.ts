import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ahlError, connectLab, loadLab } from '@ahl/core';
import { archiveMirror, cachedImage, DEFAULT_RECIPE, LOCAL_LAB_DIR, machineRunDir, readLocalLabState, removeStaleNamespaces, vmPid } from '@ahl/testlab';
import type { CommandContext } from '../command.js';
import { labRoot } from '../runs/lab-root.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The built daemon entry, found from this module whether it runs from dist/ or (in tests) from src/. */
function daemonScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'lab-daemon.js');
}

function logTail(file: string, lines = 20): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
}

async function localState(ctx: CommandContext) {
  const root = await labRoot(ctx);
  const state = readLocalLabState(root);
  return { root, state, dir: join(root, LOCAL_LAB_DIR), up: Boolean(state && alive(state.pid)) };
}

/** `ahl lab up`. */
export async function labUp(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  if (process.getuid?.() !== 0) {
    throw ahlError('NEEDS_ROOT', { what: 'the local lab', why: 'its guests live on bridges in a network namespace, and its image is built with debootstrap' });
  }
  const { root, state, dir, up } = await localState(ctx);
  if (up && state) {
    out.line(`${out.style('green', '✓')} the local lab is already up: ${state.endpoint} (pid ${state.pid})`);
    if (ctx.global.json) out.json({ ok: true, ...state });
    return 0;
  }
  // The first start builds the guest image from this site's Debian mirror: one that cannot be found
  // is said here (DEBIAN_MIRROR_MISSING, naming what to set), not in the daemon's log.
  if (!cachedImage()) archiveMirror({ env: ctx.env, suite: DEFAULT_RECIPE.suite });
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'daemon.log');
  rmSync(logFile, { force: true });
  rmSync(join(dir, 'state.json'), { force: true });
  const daemon = daemonScript();
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [daemon, root], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...ctx.env } });
  child.unref();
  out.line(`starting the local lab (log: ${logFile})`);
  let shown = 0;
  const deadline = Date.now() + 45 * 60_000;
  while (Date.now() < deadline) {
    await sleep(500);
    const lines = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean) : [];
    for (const l of lines.slice(shown)) out.line(out.style('dim', `  ${l.replace(/^\S+ /, '')}`));
    shown = lines.length;
    const now = (await localState(ctx)).state;
    if (now && alive(now.pid)) {
      out.line(`${out.style('green', '✓')} the local lab is up`);
      out.line(`  endpoint     ${now.endpoint}`);
      out.line(`  fingerprint  ${now.fingerprint}`);
      out.line(`  token        ${now.tokenId}, secret in ${now.tokenFile}`);
      out.line(`  accelerator  ${now.accel}`);
      out.line('  lab.local.yaml now points this checkout at it; `ahl lab down` removes everything');
      if (ctx.global.json) out.json({ ok: true, ...now });
      return 0;
    }
    if (child.exitCode !== null || (child.pid !== undefined && !alive(child.pid))) {
      const tail = logTail(logFile);
      out.line(tail);
      const cause = /the local lab could not start: (.*)/.exec(tail)?.[1] ?? `its daemon exited${child.exitCode !== null ? ` (exit ${child.exitCode})` : ''}`;
      throw ahlError('LOCAL_LAB_FAILED', { cause, log: logFile });
    }
  }
  throw ahlError('LOCAL_LAB_FAILED', { cause: 'it was not ready within 45 minutes', log: logFile });
}

/** `ahl lab down`. */
export async function labDown(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const { root, state, dir } = await localState(ctx);
  if (state && alive(state.pid)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && alive(state.pid)) await sleep(250);
    if (alive(state.pid)) process.kill(state.pid, 'SIGKILL');
  }
  // Whatever a crashed daemon left: namespaces with the lab prefix, guest processes, files.
  const removed = await removeStaleNamespaces(state ? [state.namespace] : []);
  for (const sub of ['run', 'volumes', 'sim', 'records', 'state.json']) rmSync(join(dir, sub), { recursive: true, force: true });
  rmSync(join(root, 'lab.local.yaml'), { force: true });
  out.line(`${out.style('green', '✓')} the local lab is down${removed.length ? ` (removed leftovers: ${removed.join(', ')})` : ''}`);
  if (ctx.global.json) out.json({ ok: true });
  return 0;
}

/** `ahl lab status`. */
export async function labStatus(ctx: CommandContext): Promise<number> {
  const { out } = ctx;
  const { root, state, dir, up } = await localState(ctx);
  if (!state || !up) {
    out.line('the local lab is down');
    if (ctx.global.json) out.json({ up: false });
    return 1;
  }
  const { lab } = await loadLab(root, { env: ctx.env });
  let guests: { vmid: number; name: string; status: string; template: boolean }[] = [];
  if (lab) {
    const client = await connectLab(lab.config, await ctx.secrets(root), root);
    try {
      const rows = (await client.request<Record<string, unknown>[]>('GET', '/cluster/resources', { type: 'vm' })) ?? [];
      guests = rows.map((r) => ({ vmid: Number(r.vmid), name: String(r.name ?? ''), status: String(r.status), template: Number(r.template ?? 0) === 1 }));
    } finally {
      await client.close();
    }
  }
  out.line(`${out.style('green', '✓')} the local lab is up: ${state.endpoint} (pid ${state.pid}, ${state.accel}, since ${state.startedAt})`);
  for (const g of guests) out.line(`  ${String(g.vmid).padEnd(6)} ${g.name.padEnd(28)} ${g.template ? 'template' : g.status}`);
  const machines = (state.machines ?? []).map((name) => ({ name, status: vmPid(machineRunDir(dir, name)) ? 'running' : 'stopped' }));
  for (const m of machines) out.line(`  ${'metal'.padEnd(6)} ${m.name.padEnd(28)} ${m.status}`);
  for (const u of state.unavailable ?? []) out.line(`${out.style('yellow', '!')} ${u}`);
  if (ctx.global.json) out.json({ up: true, ...state, guests, machines });
  return 0;
}
