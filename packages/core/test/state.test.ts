import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLabLock, isAhlError, lockFile, readHostStates, recordHostStates, stateDir } from '../src/index.js';

const root = () => mkdtempSync(join(tmpdir(), 'ahl-state-'));

describe('host state', () => {
  it('reads nothing from a lab that never ran', async () => {
    expect((await readHostStates(root())).size).toBe(0);
  });

  it('merges each record into the host\'s file, one layer at a time', async () => {
    const dir = root();
    await recordHostStates(dir, { 'web-01': { system: { at: '2026-11-26T01:00:00.000Z', status: 'changed', changed: ['Install packages'] } } });
    await recordHostStates(dir, {
      'web-01': { systemCheck: { at: '2026-11-26T02:00:00.000Z', status: 'ok', changed: [] } },
      'db-01': { backup: { at: '2026-11-26T02:00:00.000Z', last: { id: '20261126T010000Z', time: '2026-11-26T01:00:05Z', size: 12 } } },
    });
    const states = await readHostStates(dir);
    expect(Object.fromEntries(states)).toEqual({
      'db-01': { host: 'db-01', backup: { at: '2026-11-26T02:00:00.000Z', last: { id: '20261126T010000Z', time: '2026-11-26T01:00:05Z', size: 12 } } },
      'web-01': {
        host: 'web-01',
        system: { at: '2026-11-26T01:00:00.000Z', status: 'changed', changed: ['Install packages'] },
        systemCheck: { at: '2026-11-26T02:00:00.000Z', status: 'ok', changed: [] },
      },
    });
    expect(readFileSync(join(stateDir(dir), 'hosts', 'web-01.json'), 'utf8')).toMatch(/^\{\n {2}"host": "web-01",/);
  });

  it('skips a torn or foreign file instead of failing: it is a cache', async () => {
    const dir = root();
    mkdirSync(join(stateDir(dir), 'hosts'), { recursive: true });
    writeFileSync(join(stateDir(dir), 'hosts', 'x.json'), '{"host": "x", ');
    writeFileSync(join(stateDir(dir), 'hosts', 'y.json'), '{"host": "y", "colour": "blue"}');
    expect((await readHostStates(dir)).size).toBe(0);
    await recordHostStates(dir, { x: { workload: { at: '2026-11-26T00:00:00.000Z', status: 'ok', changed: [] } } });
    expect([...(await readHostStates(dir)).keys()]).toEqual(['x']);
  });
});

describe('the lab lock', () => {
  it('is held by one run at a time and names its holder', async () => {
    const dir = root();
    const lock = await acquireLabLock(dir, 'converge system');
    const err = await acquireLabLock(dir, 'image build noble').catch((e: unknown) => e);
    expect(isAhlError(err) && err.code).toBe('LAB_LOCKED');
    expect((err as Error).message).toBe(`\`ahl converge system\` (pid ${process.pid} on ${hostname()}, since ${JSON.parse(readFileSync(lockFile(dir), 'utf8')).since}) is acting on this lab`);
    await lock.release();
    const next = await acquireLabLock(dir, 'image build noble');
    await next.release();
  });

  it('takes over a lock whose process is gone', async () => {
    const dir = root();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    mkdirSync(join(dir, '.ahl'), { recursive: true });
    writeFileSync(lockFile(dir), JSON.stringify({ pid: Number(dead), host: hostname(), command: 'up', since: '2026-11-26T00:00:00.000Z' }));
    const lock = await acquireLabLock(dir, 'backup');
    expect(JSON.parse(readFileSync(lockFile(dir), 'utf8'))).toMatchObject({ pid: process.pid, command: 'backup' });
    await lock.release();
  });

  it('never takes over a lock held from another machine', async () => {
    const dir = root();
    mkdirSync(join(dir, '.ahl'), { recursive: true });
    writeFileSync(lockFile(dir), JSON.stringify({ pid: 1, host: 'other-box', command: 'up', since: '2026-11-26T00:00:00.000Z' }));
    const err = await acquireLabLock(dir, 'backup').catch((e: unknown) => e);
    expect(isAhlError(err) && err.hint).toContain(lockFile(dir));
  });
});
