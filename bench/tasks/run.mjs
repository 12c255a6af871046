#!/usr/bin/env node
// bench/tasks: what waiting for a Proxmox task costs in API calls. ahl's waiter (core's
// waitForTask: first poll after 200 ms, ×1.5 up to one poll every 5 s) against fixed 1 s polling,
// for a 10 s and a 10 min clone. Time is virtual: a fake client answers "running" until the task's
// duration has passed on a clock that only the waiters' sleeps move, so the counts are exact and
// the run takes milliseconds.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { record, table } from '../lib.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { waitForTask } = await import(join(ROOT, 'packages/core/dist/index.js'));
const UPID = 'UPID:pve1:0000A1B2:0001C3D4:6745A1B2:qmclone:9000:ahl@pve!ahl:';

function virtualTask(durationMs) {
  let now = 0;
  let statusCalls = 0;
  let logCalls = 0;
  const client = {
    async request(_method, path) {
      if (path.endsWith('/status')) {
        statusCalls++;
        return now >= durationMs ? { status: 'stopped', exitstatus: 'OK' } : { status: 'running' };
      }
      logCalls++;
      return [];
    },
  };
  const sleep = async (ms) => {
    now += ms;
  };
  return { client, sleep, counts: () => ({ status: statusCalls, log: logCalls, finishedAtMs: now }) };
}

async function ahlWaiter(durationMs) {
  const t = virtualTask(durationMs);
  await waitForTask(t.client, UPID, { sleep: t.sleep });
  return t.counts();
}

async function fixedPolling(durationMs, everyMs = 1000) {
  const t = virtualTask(durationMs);
  for (;;) {
    const s = await t.client.request('GET', `/nodes/pve1/tasks/${UPID}/status`);
    if (s.status === 'stopped') break;
    await t.sleep(everyMs);
  }
  return t.counts();
}

const rows = [];
const results = {};
for (const [label, ms] of [
  ['10 s', 10_000],
  ['10 min', 600_000],
]) {
  const a = await ahlWaiter(ms);
  const f = await fixedPolling(ms);
  results[label] = { ahl: a, fixed1s: f };
  rows.push({ measure: `${label} clone: status polls, ahl's waiter (seen done ${((a.finishedAtMs - ms) / 1000).toFixed(1)} s late)`, median_ms: a.status });
  rows.push({ measure: `${label} clone: status polls, fixed 1 s polling`, median_ms: f.status });
}
table('tasks (counts, not ms)', rows);
record('tasks', { note: 'virtual time; the median_ms column holds poll counts', results, rows });
