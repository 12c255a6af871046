import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { MemoryBackend, type SimBackend } from './backend.js';
import { SimCore } from './model/core.js';
import type { StorageLockOptions, StorageLocks } from './model/storage-lock.js';
import type { SimStateData } from './model/types.js';
import { type SeedConfig, buildState } from './seed.js';
import { generateCertificate, fingerprintOf } from './server/cert.js';
import { handleControl } from './server/control.js';
import { CallStats, FaultSet } from './server/faults.js';
import { handleRequest } from './server/http.js';
import { versionTraits } from './server/protocol.js';

export interface SimOptions {
  /** The seed as an object; ignored when `stateDir` already holds a state. */
  seed?: SeedConfig;
  /** A YAML or JSON seed file (used when `seed` is not given). */
  seedFile?: string;
  /** Bind address; loopback unless told otherwise. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** HTTPS with a generated self-signed certificate (default), or plain HTTP when false. */
  https?: boolean;
  /** Use this certificate instead of generating one. */
  tls?: { cert: string; key: string };
  /** The pve-manager version to imitate (error bodies, 401 texts, /version); overrides the seed. */
  pveVersion?: string;
  /** Duration of every task, or per task type (`{ default: 200, qmclone: 2000 }`), in ms. Default 200. */
  taskDurationMs?: number | Record<string, number>;
  /** PVE delays every 401 to ~3 s after the request arrived. Default 3000. */
  authFailureDelayMs?: number;
  /** How long new guests show `status: unknown` without stats in /cluster/resources. Default 10000. */
  statsLagMs?: number;
  /** Delay after start before the guest agent answers. Default 0. */
  agentStartDelayMs?: number;
  /** Seed of the generator behind probabilistic faults. Default 1. */
  faultSeed?: number;
  /**
   * The storage lock model, off by default: every volume allocation or copy holds its storage's
   * lock (`/var/lock/pve-manager/pve-storage-<id>`, cfs_lock_storage when shared) for `holdMs`, and a
   * waiter that waits longer than `timeoutMs` (default 10000, PVE's) fails its task, or its
   * synchronous call with 500, with `can't lock file '/var/lock/pve-manager/pve-storage-<id>' - got timeout`.
   * Counters: `sim.storageLocks.snapshot()`, `GET /_sim/storage-locks`.
   */
  storageLock?: StorageLockOptions;
  /**
   * The control API under `/_sim` (fault injection, call stats, the state with its secrets redacted;
   * not part of PVE). Off unless asked for: then every path under `/_sim` answers 404. On, every
   * request needs `Authorization: Bearer <token>` with its own token, never a PVE API token: `token`,
   * or one generated at random. The running sim's `control` holds the URL and the token.
   */
  control?: boolean | { token?: string };
  /** Persist state here (state.json) and reload it at start. */
  stateDir?: string;
  backend?: SimBackend;
  /** Clock in ms (tests). */
  now?: () => number;
}

export interface RunningSim {
  /** Base URL, e.g. `https://127.0.0.1:8006`; the API is under `/api2/json`. */
  url: string;
  apiUrl: string;
  host: string;
  port: number;
  /** SHA-256 fingerprint of the server certificate (HTTPS only). */
  fingerprint?: string;
  /** Full token id (`user@realm!name`) → secret, for every token in the state. */
  tokens: Record<string, string>;
  state: SimStateData;
  core: SimCore;
  faults: FaultSet;
  stats: CallStats;
  /** The storage lock model's counters (acquired, waited, timeouts); all zero when it is off. */
  storageLocks: StorageLocks;
  /** The control API's base URL (`…/_sim`) and bearer token; undefined when it is off (`control`). */
  readonly control: { readonly url: string; readonly token: string } | undefined;
  /**
   * The sim's own temp directory (`<os.tmpdir()>/ahl-pve-sim-*`, where
   * download-url streams files before handing them to the backend), once a
   * task has needed it; removed by `stop()`.
   */
  readonly tempDir: string | undefined;
  /** Resolves when no task is running. */
  idle(): Promise<void>;
  /** Stops tasks, closes the server, removes the temp directory, and flushes state to `stateDir`. */
  stop(): Promise<void>;
}

const STATE_FILE = 'state.json';

export async function loadSeedFile(path: string): Promise<SeedConfig> {
  const text = await readFile(path, 'utf8');
  const parsed: unknown = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  if (parsed !== null && typeof parsed !== 'object') throw new Error(`seed: ${path} must hold a mapping`);
  return (parsed ?? {}) as SeedConfig;
}

function loadPersisted(dir: string): SimStateData | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(readFileSync(file, 'utf8')) as SimStateData;
  if (state.schema !== 1) throw new Error(`${file}: unsupported state schema ${String(state.schema)}`);
  for (const t of state.tasks) {
    if (t.status === 'running') {
      t.status = 'stopped';
      t.exitstatus = 'unexpected status';
      t.endtime = t.starttime;
    }
  }
  return state;
}

function persist(dir: string, state: SimStateData): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, STATE_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file);
}

/** The control API's bearer token from the `control` option: undefined when off, random unless given. */
function controlToken(option: SimOptions['control']): string | undefined {
  if (!option) return undefined;
  const given = option === true ? undefined : option.token;
  if (given === undefined) return randomBytes(32).toString('base64url');
  if (typeof given !== 'string' || !/^[\x21-\x7e]+$/.test(given)) throw new Error('control.token must be a non-empty string of printable ASCII without spaces');
  return given;
}

export function tokenMap(state: SimStateData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const u of Object.values(state.access.users)) for (const [id, t] of Object.entries(u.tokens)) out[`${u.userid}!${id}`] = t.secret;
  return out;
}

/** Starts a simulated PVE API server. */
export async function startSim(options: SimOptions = {}): Promise<RunningSim> {
  const now = options.now ?? Date.now;
  const token = controlToken(options.control);
  let seed = options.seed;
  if (!seed && options.seedFile) seed = await loadSeedFile(options.seedFile);
  const state = (options.stateDir ? loadPersisted(options.stateDir) : undefined) ?? buildState(seed, Math.floor(now() / 1000));
  if (options.pveVersion) state.pveVersion = options.pveVersion;

  let dirty = false;
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    if (options.stateDir && dirty) {
      dirty = false;
      persist(options.stateDir, state);
    }
  };
  const onChange = (): void => {
    if (!options.stateDir) return;
    dirty = true;
    if (!flushTimer) {
      flushTimer = setTimeout(flush, 50);
      flushTimer.unref?.();
    }
  };

  let core!: SimCore;
  const faults = new FaultSet(() => core, options.faultSeed ?? 1);
  core = new SimCore(state, {
    taskDurationMs: options.taskDurationMs ?? 200,
    statsLagMs: options.statsLagMs ?? 10000,
    agentStartDelayMs: options.agentStartDelayMs ?? 0,
    now,
    backend: options.backend ?? new MemoryBackend(),
    injectedTaskFailure: (type, id) => faults.forTask(type, id),
    onChange,
    ...(options.storageLock ? { storageLock: options.storageLock } : {}),
  });
  const stats = new CallStats();
  const host = options.host ?? '127.0.0.1';
  const useHttps = options.https ?? true;
  let tls = options.tls ? { ...options.tls, fingerprint: fingerprintOf(options.tls.cert) } : undefined;
  if (useHttps && !tls) tls = await generateCertificate(host);
  if (tls) for (const n of state.nodes) n.sslFingerprint = tls.fingerprint;

  const control = { core, faults, stats, token };
  const httpCtx = {
    core,
    faults,
    stats,
    traits: versionTraits(state.pveVersion),
    authFailureDelayMs: options.authFailureDelayMs ?? 3000,
    control: (req: IncomingMessage, res: ServerResponse, path: string, body: string) => handleControl(control, req, res, path, body),
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handleRequest(httpCtx, req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, 'internal error');
        res.end(String(err));
      }
    });
  };
  const server: Server = useHttps && tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, listener) : createHttpServer(listener);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `${useHttps ? 'https' : 'http'}://${hostPart}:${port}`;
  onChange();

  return {
    url,
    apiUrl: `${url}/api2/json`,
    host,
    port,
    ...(tls && useHttps ? { fingerprint: tls.fingerprint } : {}),
    get tokens() {
      return tokenMap(state);
    },
    state,
    core,
    faults,
    stats,
    storageLocks: core.storageLocks,
    control: control.token === undefined ? undefined : { url: `${url}/_sim`, token: control.token },
    get tempDir() {
      return core.tempDirPath;
    },
    idle: () => core.tasks.idle(),
    stop: async () => {
      core.tasks.abortAll();
      faults.clear();
      await core.tasks.idle();
      core.removeTempDir();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      dirty = true;
      flush();
    },
  };
}
