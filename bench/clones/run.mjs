#!/usr/bin/env node
// bench/clones: "Parallel clones under lock contention" (issue "Benchmarks side by side with the peers").
// pve-sim with its storage-lock model on (every volume allocation or copy holds the storage's lock for
// BENCH_LOCK_HOLD_MS, default 1500; a waiter gives up after BENCH_LOCK_TIMEOUT_MS, default 10000 as in
// PVE, and its task fails with `can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout`).
// 20 hosts (full clones of one template onto local-lvm, as ahl renders them, clone.retries = 3) are
// applied at once by `ahl apply --approve` (terraform's default parallelism, 10: ahl does not set one).
// Target: every VM created, zero failures. Reported: wall time, lock timeouts the sim saw, clone
// dispatches (a retried clone is dispatched again), and the serial baseline: the same module applied
// by `terraform apply -parallelism=1` in ahl's workspace on a fresh sim with the same lock model.
import { rmSync } from 'node:fs';
import { record } from '../lib.mjs';
import { PROVIDER_VERSION, ahl, missingTools, startBenchSim, tail, terraformIn, terraformVersion, writeLab } from '../ahl-lab.mjs';

const HOSTS = Number(process.env.BENCH_CLONES_HOSTS ?? 20);
const HOLD_MS = Number(process.env.BENCH_LOCK_HOLD_MS ?? 1500);
const TIMEOUT_MS = Number(process.env.BENCH_LOCK_TIMEOUT_MS ?? 10000);
const CLONE_MS = Number(process.env.BENCH_CLONE_MS ?? 2000);
const SERIAL = process.env.BENCH_CLONES_SERIAL !== '0';

const missing = missingTools();
if (missing) {
  process.stdout.write(`\nclones: skipped — ${missing}\n`);
  process.exit(0);
}
const TERRAFORM = terraformVersion();
const simOptions = { taskDurationMs: { default: 200, qmclone: CLONE_MS }, storageLock: { holdMs: HOLD_MS, timeoutMs: TIMEOUT_MS } };

/** What the sim saw: lock counters, clone dispatches and outcomes, failed calls. */
function simView(sim) {
  const locks = sim.storageLocks.snapshot();
  const stats = sim.stats.snapshot();
  const clones = sim.state.tasks.filter((t) => t.type === 'qmclone');
  const failedClones = clones.filter((t) => t.status === 'stopped' && t.exitstatus !== 'OK');
  const errors = Object.entries(stats).filter(([, s]) => s.errors > 0).map(([endpoint, s]) => ({ endpoint, errors: s.errors, byStatus: s.byStatus }));
  return {
    lock: { acquired: locks.acquired, waited: locks.waited, timeouts: locks.timeouts, max_wait_ms: Math.round(locks.maxWaitMs), total_wait_ms: Math.round(locks.totalWaitMs) },
    clone_dispatches: stats['POST /nodes/{node}/qemu/{vmid}/clone']?.count ?? 0,
    clone_tasks_failed: failedClones.length,
    clone_failures: [...new Set(failedClones.map((t) => t.exitstatus))],
    http_errors: errors,
    vms: Object.values(sim.state.guests).filter((g) => !g.config.template && g.status === 'running').length,
  };
}

async function parallelRun() {
  const sim = await startBenchSim(simOptions);
  const dir = writeLab(sim, HOSTS, 'clones');
  try {
    const r = await ahl(dir, ['apply', '--approve', '--json']);
    await sim.idle();
    let out;
    try {
      out = JSON.parse(r.stdout);
    } catch {
      out = undefined;
    }
    const hosts = out?.applied?.hosts ?? [];
    const done = hosts.filter((h) => h.state === 'done').length;
    const perVmSeconds = hosts.reduce((s, h) => s + (h.seconds ?? 0), 0);
    return {
      exit: r.code,
      wall_ms: Math.round(r.ms),
      apply_ms: out?.applied?.durationMs,
      done,
      failed: HOSTS - done,
      per_vm_seconds_sum: perVmSeconds,
      per_vm_seconds_max: Math.max(0, ...hosts.map((h) => h.seconds ?? 0)),
      sim: simView(sim),
      ...(r.code !== 0 || done !== HOSTS ? { output: tail(`${r.stdout}\n${r.stderr}`, 60) } : {}),
    };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function serialRun() {
  const sim = await startBenchSim(simOptions);
  const dir = writeLab(sim, HOSTS, 'clones-serial');
  try {
    const plan = await ahl(dir, ['apply', '--json']);
    if (plan.code !== 0) throw new Error(`ahl apply (plan) failed:\n${tail(`${plan.stdout}\n${plan.stderr}`)}`);
    const r = await terraformIn(dir, sim, ['apply', '-auto-approve', '-input=false', '-no-color', '-parallelism=1']);
    await sim.idle();
    return { exit: r.code, plan_ms: Math.round(plan.ms), apply_ms: Math.round(r.ms), sim: simView(sim), ...(r.code !== 0 ? { output: tail(`${r.stdout}\n${r.stderr}`, 40) } : {}) };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const par = await parallelRun();
const ser = SERIAL ? await serialRun() : undefined;

const fmt = (x) => (x === undefined ? '' : x.toLocaleString('en-US'));
const met = par.exit === 0 && par.failed === 0;
const lines = [
  `\nclones: ${HOSTS} full clones at once under the storage lock (hold ${HOLD_MS} ms per volume, timeout ${TIMEOUT_MS} ms, clone copy ${CLONE_MS} ms; terraform ${TERRAFORM}, bpg/proxmox ${PROVIDER_VERSION}, clone.retries 3)`,
  '| measure | value | target | met |',
  '|---|---:|---:|:-:|',
  `| ahl apply --approve, ${HOSTS} hosts, parallelism 10: wall time (ms) | ${fmt(par.wall_ms)} | | |`,
  `| of which terraform apply (ms) | ${fmt(par.apply_ms)} | | |`,
  `| VMs created / failed | ${par.done} / ${par.failed} | ${HOSTS} / 0 | ${met ? 'yes' : 'MISSED'} |`,
  `| storage-lock timeouts the sim saw (each failed a clone task or a config call) | ${par.sim.lock.timeouts} | | |`,
  `| clone dispatches (${HOSTS} + retries) / clone tasks failed | ${par.sim.clone_dispatches} / ${par.sim.clone_tasks_failed} | | |`,
  `| longest lock wait that got the lock (ms) | ${fmt(par.sim.lock.max_wait_ms)} | ${fmt(TIMEOUT_MS)} | |`,
  `| sum of per-VM creation times in this run (ms) | ${fmt(Math.round(par.per_vm_seconds_sum * 1000))} | | |`,
];
if (ser) {
  lines.push(`| serial: terraform apply -parallelism=1, same module, fresh sim (ms) | ${fmt(ser.apply_ms)} | | |`);
  lines.push(`| serial: lock timeouts / clone dispatches | ${ser.sim.lock.timeouts} / ${ser.sim.clone_dispatches} | | |`);
  if (par.apply_ms) lines.push(`| speed-up of ahl's apply over serial (terraform apply phases) | ${(ser.apply_ms / par.apply_ms).toFixed(2)}× | | |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
if (par.sim.http_errors.length) process.stdout.write(`\nHTTP errors during ahl apply: ${JSON.stringify(par.sim.http_errors)}\n`);
if (par.sim.clone_failures.length) process.stdout.write(`clone task failures: ${par.sim.clone_failures.join(' | ')}\n`);
if (par.output) process.stdout.write(`\nahl apply output (tail):\n${par.output}\n`);
if (ser?.output) process.stdout.write(`\nserial apply output (tail):\n${ser.output}\n`);
record('clones', { hosts: HOSTS, terraform: TERRAFORM, provider: `bpg/proxmox ${PROVIDER_VERSION}`, parallelism: 10, lock: { hold_ms: HOLD_MS, timeout_ms: TIMEOUT_MS }, clone_task_ms: CLONE_MS, met, parallel: par, serial: ser ?? null });
process.exitCode = met ? 0 : 1;
