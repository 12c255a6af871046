import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLabLock, isAhlError, lockFile } from '../src/index.js';

// The lab lock against real concurrency: 20 Node processes race for it on the real filesystem, from
// a free lab and from a lock left by a dead process, trial after trial; every holder appends to one
// log as it takes the lock and before it lets go, and the log must show one holder at a time.

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
/** The lock's module and what it imports, compiled for the child processes (they cannot load TypeScript). */
const MODULES = ['errors.ts', 'atomic-file.ts', 'model/lock.ts'];
const WORKERS = 20;
const TRIALS = { free: 10, stale: 15 };
const TRIES = 4;
const HOLD_MS = 2;

const WORKER = `
import { appendFileSync } from 'node:fs';
const { acquireLabLock } = await import(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
process.on('message', async (m) => {
  await sleep(Math.max(0, m.start - Date.now()));
  const r = { acquired: 0, locked: 0, other: [] };
  for (let i = 0; i < m.tries; i++) {
    try {
      const lock = await acquireLabLock(m.dir, 'race ' + process.pid);
      appendFileSync(m.log, '+ ' + process.pid + '\\n');
      await sleep(m.holdMs);
      appendFileSync(m.log, '- ' + process.pid + '\\n');
      await lock.release();
      r.acquired++;
    } catch (e) {
      if (e && e.code === 'LAB_LOCKED') r.locked++;
      else r.other.push(String(e && e.stack || e));
    }
  }
  process.send(r);
});
process.send('ready');
`;

interface WorkerResult {
  acquired: number;
  locked: number;
  other: string[];
}

/** Holders in the log that overlap another: `+ a` followed by a second `+` before `- a`. */
function overlaps(log: string): string[] {
  const bad: string[] = [];
  let holder: string | undefined;
  for (const line of log.split('\n').filter(Boolean)) {
    const [sign, pid] = line.split(' ');
    if (sign === '+') {
      if (holder !== undefined) bad.push(`${pid} took the lock while ${holder} held it`);
      holder = pid;
    } else {
      if (holder !== pid) bad.push(`${pid} let go of a lock held by ${holder ?? 'nobody'}`);
      holder = undefined;
    }
  }
  return bad;
}

/** A pid that ran on this host and has exited. */
const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());

const writeLock = (dir: string, holder: object) => {
  mkdirSync(join(dir, '.ahl'), { recursive: true });
  writeFileSync(lockFile(dir), `${JSON.stringify(holder)}\n`);
};

describe('the lab lock across 20 processes', () => {
  let tmp: string;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'ahl-lock-race-'));
    for (const m of MODULES) {
      const out = join(tmp, 'build', m.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(out), { recursive: true });
      const compiled = ts.transpileModule(readFileSync(join(SRC, m), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      writeFileSync(out, compiled.outputText);
    }
    writeFileSync(join(tmp, 'build', 'package.json'), '{"type": "module"}\n');
    writeFileSync(join(tmp, 'worker.mjs'), WORKER);
    const lockModule = pathToFileURL(join(tmp, 'build', 'model', 'lock.js')).href;
    await Promise.all(
      Array.from({ length: WORKERS }, () => {
        const w = fork(join(tmp, 'worker.mjs'), [lockModule], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        workers.push(w);
        return new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('exit', (code) => reject(new Error(`a worker exited (${code}) before it was ready`)));
        });
      }),
    );
  }, 30_000);

  afterAll(() => {
    for (const w of workers) w.kill();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** One trial: every worker tries TRIES times at the same instant; the log and their answers. */
  async function trial(dir: string): Promise<{ log: string; results: WorkerResult[] }> {
    const log = join(dir, 'holders.log');
    writeFileSync(log, '');
    const start = Date.now() + 40;
    const results = await Promise.all(
      workers.map(
        (w) =>
          new Promise<WorkerResult>((resolve) => {
            w.once('message', (r) => resolve(r as WorkerResult));
            w.send({ dir, log, start, tries: TRIES, holdMs: HOLD_MS });
          }),
      ),
    );
    return { log: readFileSync(log, 'utf8'), results };
  }

  for (const [scenario, trials] of Object.entries(TRIALS))
    it(`never has two holders: ${trials} trials from a ${scenario === 'free' ? 'free lab' : 'lock left by a dead process'}`, async () => {
      let acquisitions = 0;
      for (let n = 0; n < trials; n++) {
        const dir = mkdtempSync(join(tmp, `${scenario}-`));
        if (scenario === 'stale') writeLock(dir, { pid: deadPid(), host: hostname(), command: 'up --approve', since: '2026-11-26T00:00:00.000Z' });
        const { log, results } = await trial(dir);
        expect(results.flatMap((r) => r.other)).toEqual([]);
        expect(overlaps(log)).toEqual([]);
        const acquired = results.reduce((s, r) => s + r.acquired, 0);
        expect(log.split('\n').filter((l) => l.startsWith('+')).length).toBe(acquired);
        expect(acquired).toBeGreaterThan(0);
        expect(acquired + results.reduce((s, r) => s + r.locked, 0)).toBe(WORKERS * TRIES);
        // Every holder let go, and the protocol left no claim or marker behind.
        expect(readdirSync(join(dir, '.ahl'))).toEqual([]);
        acquisitions += acquired;
      }
      expect(acquisitions).toBeGreaterThanOrEqual(trials);
    }, 60_000);
});

describe('the lab lock', () => {
  const root = () => mkdtempSync(join(tmpdir(), 'ahl-lock-'));

  it('appears whole: while held, .ahl holds the lock alone, with its holder', async () => {
    const dir = root();
    const lock = await acquireLabLock(dir, 'apply --approve');
    expect(readdirSync(join(dir, '.ahl'))).toEqual(['lock']);
    expect(JSON.parse(readFileSync(lockFile(dir), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), command: 'apply --approve', id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    await lock.release();
    expect(readdirSync(join(dir, '.ahl'))).toEqual([]);
  });

  it('is released only by its holder: a lock someone else put there stays', async () => {
    const dir = root();
    const lock = await acquireLabLock(dir, 'up --approve');
    // The operator removed it (as LAB_LOCKED's hint allows) and another run took the lab.
    const other = { pid: process.pid, host: hostname(), command: 'destroy web-01 --approve', since: '2026-11-26T00:00:00.000Z', id: '0123456789abcdef' };
    writeLock(dir, other);
    await lock.release();
    expect(JSON.parse(readFileSync(lockFile(dir), 'utf8'))).toEqual(other);
  });

  it('takes over a stale lock even when a run died while taking it over', async () => {
    const dir = root();
    const stale = `${JSON.stringify({ pid: deadPid(), host: hostname(), command: 'up', since: '2026-11-26T00:00:00.000Z' })}\n`;
    mkdirSync(join(dir, '.ahl'), { recursive: true });
    writeFileSync(lockFile(dir), stale);
    // The marker of that takeover, held by a process that is gone too.
    const { createHash } = await import('node:crypto');
    const marker = `${lockFile(dir)}.${createHash('sha256').update(stale).digest('hex').slice(0, 16)}.takeover`;
    writeFileSync(marker, JSON.stringify({ pid: deadPid(), host: hostname(), command: 'plan', since: '2026-11-26T00:00:01.000Z' }));
    const lock = await acquireLabLock(dir, 'backup');
    expect(JSON.parse(readFileSync(lockFile(dir), 'utf8'))).toMatchObject({ pid: process.pid, command: 'backup' });
    expect(existsSync(marker)).toBe(false);
    await lock.release();
  });

  it('names a live holder, and leaves a lock it cannot read to the operator', async () => {
    const dir = root();
    writeLock(dir, { pid: process.pid, host: hostname(), command: 'converge system', since: '2026-11-26T00:00:00.000Z' });
    const busy = await acquireLabLock(dir, 'backup').catch((e: unknown) => e);
    expect(isAhlError(busy) && busy.message).toBe(`\`ahl converge system\` (pid ${process.pid} on ${hostname()}, since 2026-11-26T00:00:00.000Z) is acting on this lab`);
    writeFileSync(lockFile(dir), '{"pid": 12');
    const torn = await acquireLabLock(dir, 'backup').catch((e: unknown) => e);
    expect(isAhlError(torn) && [torn.code, torn.message]).toEqual(['LAB_LOCKED', 'another ahl run is acting on this lab']);
    expect(readFileSync(lockFile(dir), 'utf8')).toBe('{"pid": 12');
  });
});
