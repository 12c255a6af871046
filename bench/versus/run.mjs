#!/usr/bin/env node
// bench/versus: "Status vs refresh" (issue "Benchmarks side by side with the peers"). For labs of 10, 100
// and 500 VMs, in one run and against the same in-process pve-sim per size: `ahl status --json` (a fresh
// CLI process each time) against `terraform plan -refresh-only` with the real bpg/proxmox provider in
// ahl's own rendered workspace (<lab>/.ahl/terraform, the module `ahl apply` plans), on a state that
// matches the sim. Wall time (median of BENCH_RUNS, default 3, after one warm-up of each, the two
// interleaved) and API calls from the sim's accounting, and their ratio.
// Targets at 100 VMs: ahl makes at least 20× fewer calls and is at least 10× faster.
//
// Setup per size (timed and reported, not part of the measure): `ahl apply --json` renders the module,
// runs terraform init and plans the N creations; `terraform apply -parallelism=BENCH_BUILD_PARALLELISM`
// (default 50; ahl itself applies with terraform's default 10) creates them from that same module;
// one `terraform apply -refresh-only` records what the provider reads back after a create (cpu.flags
// null → []), after which every refresh-only plan must answer "No changes.".
import { rmSync } from 'node:fs';
import { median, record } from '../lib.mjs';
import { PROVIDER_VERSION, ahl, callsOf, missingTools, startBenchSim, tail, terraformIn, terraformVersion, writeLab } from '../ahl-lab.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = (process.env.BENCH_VERSUS_SIZES ?? '10,100,500').split(',').map(Number);
const BUILD_PARALLELISM = Number(process.env.BENCH_BUILD_PARALLELISM ?? 50);
const TARGET = { vms: 100, calls: 20, time: 10 };

const missing = missingTools();
if (missing) {
  process.stdout.write(`\nversus: skipped — ${missing}\n`);
  process.exit(0);
}
const TERRAFORM = terraformVersion();

const fail = (what, r) => {
  throw new Error(`${what} failed (exit ${r.code}):\n${tail(`${r.stdout}\n${r.stderr}`)}`);
};

async function measure(n) {
  const sim = await startBenchSim({ taskDurationMs: 20 });
  const dir = writeLab(sim, n, 'versus');
  try {
    const plan = await ahl(dir, ['apply', '--json']);
    if (plan.code !== 0) fail(`ahl apply (plan, ${n} VMs)`, plan);
    const build = await terraformIn(dir, sim, ['apply', '-auto-approve', '-input=false', '-no-color', `-parallelism=${BUILD_PARALLELISM}`]);
    if (build.code !== 0) fail(`terraform apply (${n} VMs)`, build);
    const settle = await terraformIn(dir, sim, ['apply', '-refresh-only', '-auto-approve', '-input=false', '-no-color']);
    if (settle.code !== 0) fail(`terraform apply -refresh-only (${n} VMs)`, settle);
    await sim.idle();
    const times = { ahl: [], tf: [] };
    const calls = {};
    for (let i = 0; i < RUNS + 1; i++) {
      sim.stats.reset();
      const s = await ahl(dir, ['status', '--json']);
      if (s.code !== 0) fail(`ahl status (${n} VMs)`, s);
      const hosts = JSON.parse(s.stdout).hosts;
      if (hosts.length !== n || hosts.some((h) => h.vm?.power !== 'running')) throw new Error(`ahl status: expected ${n} running VMs`);
      calls.ahl = callsOf(sim.stats.snapshot());
      sim.stats.reset();
      const r = await terraformIn(dir, sim, ['plan', '-refresh-only', '-input=false', '-no-color', '-lock=false', '-detailed-exitcode']);
      // The state must match the sim: "No changes." (terraform 1.11 exits 2 on a refresh-only plan even
      // then, so the text decides; drift would list "has changed" objects instead).
      if ((r.code !== 0 && r.code !== 2) || !r.stdout.includes('No changes.') || r.stdout.includes('has changed')) fail(`terraform plan -refresh-only (${n} VMs)`, r);
      calls.tf = callsOf(sim.stats.snapshot());
      if (i > 0) {
        times.ahl.push(s.ms);
        times.tf.push(r.ms);
      }
    }
    return { ahl: { ms: median(times.ahl), calls: calls.ahl }, tf: { ms: median(times.tf), calls: calls.tf }, setup: { plan_ms: Math.round(plan.ms), apply_ms: Math.round(build.ms), refresh_apply_ms: Math.round(settle.ms) } };
  } finally {
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const n of SIZES) {
  const m = await measure(n);
  results.push({ vms: n, ...m, ratio: { calls: Math.round((m.tf.calls.total / m.ahl.calls.total) * 10) / 10, time: Math.round((m.tf.ms / m.ahl.ms) * 10) / 10 } });
}

const fmt = (x) => x.toLocaleString('en-US');
const lines = [
  `\nversus: ahl status vs terraform plan -refresh-only (terraform ${TERRAFORM}, bpg/proxmox ${PROVIDER_VERSION}, parallelism 10), median of ${RUNS}`,
  '| VMs | measure | ahl status | terraform refresh | ratio | target | met |',
  '|---:|---|---:|---:|---:|---:|:-:|',
];
const rows = [];
for (const r of results) {
  const at = r.vms === TARGET.vms;
  const callsMet = at ? (r.ratio.calls >= TARGET.calls ? 'yes' : 'MISSED') : '';
  const timeMet = at ? (r.ratio.time >= TARGET.time ? 'yes' : 'MISSED') : '';
  lines.push(`| ${r.vms} | wall time (ms) | ${fmt(r.ahl.ms)} | ${fmt(r.tf.ms)} | ${r.ratio.time}× | ${at ? `${TARGET.time}×` : ''} | ${timeMet} |`);
  lines.push(`| ${r.vms} | Proxmox API calls | ${fmt(r.ahl.calls.total)} | ${fmt(r.tf.calls.total)} | ${r.ratio.calls}× | ${at ? `${TARGET.calls}×` : ''} | ${callsMet} |`);
  rows.push({ vms: r.vms, measure: 'wall time (ms)', ahl: r.ahl.ms, terraform: r.tf.ms, ratio: r.ratio.time, ...(at ? { target_ratio: TARGET.time, met: timeMet === 'yes' } : {}) });
  rows.push({ vms: r.vms, measure: 'Proxmox API calls', ahl: r.ahl.calls.total, terraform: r.tf.calls.total, ratio: r.ratio.calls, ...(at ? { target_ratio: TARGET.calls, met: callsMet === 'yes' } : {}) });
}
process.stdout.write(`${lines.join('\n')}\n`);
for (const r of results) {
  process.stdout.write(
    `\n${r.vms} VMs: setup ahl apply (plan) ${fmt(r.setup.plan_ms)} ms, terraform apply -parallelism=${BUILD_PARALLELISM} ${fmt(r.setup.apply_ms)} ms, apply -refresh-only ${fmt(r.setup.refresh_apply_ms)} ms; errors: ahl ${r.ahl.calls.errors}, terraform ${r.tf.calls.errors}\n`,
  );
  for (const t of r.tf.calls.top) process.stdout.write(`  ${String(t.count).padStart(5)}  ${t.endpoint}\n`);
}
record('versus', {
  runs: RUNS,
  sizes: SIZES,
  terraform: TERRAFORM,
  provider: `bpg/proxmox ${PROVIDER_VERSION}`,
  build_parallelism: BUILD_PARALLELISM,
  targets: { at_vms: TARGET.vms, calls_ratio: TARGET.calls, time_ratio: TARGET.time },
  rows,
  detail: results,
});
process.exitCode = rows.every((r) => r.met !== false) ? 0 : 1;
