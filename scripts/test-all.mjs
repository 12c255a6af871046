#!/usr/bin/env node
// Runs every test tier, says which ran or were skipped and why, prints each tier's wall time and the
// ten slowest test files, and ends with one line "N passed, N failed, N skipped" summing them all.
// Exit status 0 only when nothing failed. Under CI (CI set), a tier whose prerequisite is missing, or
// that an AHL_SKIP_* variable would skip, fails the run and names the cause: nothing skips silently.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CI = Boolean(process.env.CI);
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', FORCE_COLOR: process.env.FORCE_COLOR ?? '0' };
const totals = { passed: 0, failed: 0, skipped: 0 };
const summary = [];
const times = [];
const files = [];
const OUT = join(ROOT, '.ahl', 'test-results');
const TIER_OF = { 'pve-sim': 'contract' };

const seconds = (ms) => `${(ms / 1000).toFixed(0)} s`;
const minutes = (ms) => `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;

/** Adds a vitest JSON report to the totals, one summary row per package; a missing report is a failure. */
function tally(tierName, file) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    totals.failed++;
    summary.push(`${(tierName ?? 'unit').padEnd(9)} vitest produced no report            FAILED`);
    return;
  }
  const byProject = new Map();
  // vitest's startTime of a file comes after its beforeAll (booting guests, a first converge). The
  // guest tiers run one file at a time, so there a file's wall time runs from the end of the one
  // before it (or the start of the run); the unit tier runs files in parallel, so it keeps vitest's.
  const serial = tierName === 'tool' || tierName === 'e2e';
  let previousEnd = report.startTime;
  for (const f of [...report.testResults].sort((a, b) => (a.endTime ?? 0) - (b.endTime ?? 0))) {
    const rel = f.name.slice(ROOT.length);
    const project = rel.startsWith('packages/') ? rel.split('/')[1] : 'repo';
    const tier = tierName ?? TIER_OF[project] ?? 'unit';
    if (f.startTime && f.endTime) files.push({ tier, file: rel, ms: f.endTime - (serial ? Math.min(previousEnd ?? f.startTime, f.startTime) : f.startTime) });
    previousEnd = f.endTime ?? previousEnd;
    const t = byProject.get(project) ?? { passed: 0, failed: 0, skipped: 0 };
    for (const a of f.assertionResults) {
      if (a.status === 'passed') t.passed++;
      else if (a.status === 'failed') t.failed++;
      else t.skipped++;
    }
    // A file that failed to load (or whose hooks failed) has no passing assertions but must still fail the run.
    if (f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed')) t.failed++;
    byProject.set(project, t);
  }
  for (const [project, t] of [...byProject].sort()) {
    totals.passed += t.passed;
    totals.failed += t.failed;
    totals.skipped += t.skipped;
    const tier = tierName ?? TIER_OF[project] ?? 'unit';
    summary.push(`${tier.padEnd(9)} ${project.padEnd(22)} ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
  }
}

/**
 * Runs a command; resolves to whether it exited 0. Its output is inherited, or, with `prefix`, passed
 * on line by line with the prefix in front, so two tiers running at once stay readable.
 */
function run(title, cmd, args, prefix) {
  process.stderr.write(`\n=== ${title}: ${cmd} ${args.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    if (prefix)
      for (const [stream, out] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
        let rest = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk) => {
          const lines = (rest + chunk).split('\n');
          rest = lines.pop();
          for (const l of lines) out.write(`${prefix} ${l}\n`);
        });
        stream.on('end', () => rest && out.write(`${prefix} ${rest}\n`));
      }
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}

/** Runs `f` and records its wall time under `name`. */
async function timed(name, f) {
  const t0 = Date.now();
  try {
    return await f();
  } finally {
    times.push([name, Date.now() - t0]);
  }
}

/** A tier that cannot run: skipped outside CI, a failure under CI; either way the reason is printed. */
function cannotRun(tier, why) {
  if (CI) {
    totals.failed++;
    summary.push(`${tier.padEnd(9)} FAILED: ${why} (under CI a tier never skips)`);
  } else {
    summary.push(`${tier.padEnd(9)} skipped: ${why}`);
  }
}

/** One vitest run of a tier with a JSON report, tallied under `tier` (undefined: by package). */
async function vitestTier(tier, title, config, prefix) {
  const file = join(OUT, `${tier ?? 'unit'}.json`);
  rmSync(file, { force: true });
  await run(title, 'pnpm', ['exec', 'vitest', 'run', ...(config ? ['--config', config] : []), '--reporter=default', '--reporter=json', `--outputFile.json=${file}`], prefix);
  tally(tier, file);
}

mkdirSync(OUT, { recursive: true });
const started = Date.now();
const bootstrapSeconds = Number(process.env.AHL_BOOTSTRAP_SECONDS);
if (Number.isFinite(bootstrapSeconds) && process.env.AHL_BOOTSTRAP_SECONDS) times.push(['bootstrap', bootstrapSeconds * 1000]);

// Checks that gate the tests: each counts as one test in the totals.
const checks = [
  ['build', 'pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']],
  ['typecheck', 'pnpm', ['exec', 'turbo', 'run', 'typecheck', '--output-logs=errors-only']],
  ['layer rule', 'pnpm', ['run', 'lint:layers']],
  ['JSON Schemas fresh', 'node', ['packages/cli/dist/bin.js', 'schema', '--check']],
];
let built = true;
await timed('checks', async () => {
  for (const [name, cmd, args] of checks) {
    const ok = await run(`check ${name}`, cmd, args);
    totals[ok ? 'passed' : 'failed']++;
    summary.push(`check     ${name.padEnd(22)} ${ok ? 'passed' : 'FAILED'}`);
    if (!ok && name === 'build') built = false;
  }
});

// Tiers 1 and 2, unit and contract: every vitest project in one run.
if (built) await timed('unit + contract', () => vitestTier(undefined, 'tiers unit + contract'));
else cannotRun('unit', 'the build failed');

// Tiers 3 and 4 run at the same time: their guests leave a core idle about 40% of the time under TCG
// (measured with vmstat during the L4 tool test), and each tier's files still run one at a time.
// Tier 3, tool: real terraform/tofu and ansible-playbook (*.tool.test.ts). A test whose tool is
// missing fails under CI, naming it, and skips elsewhere with the reason in its name.
const guestTiers = [];
if (process.env.AHL_SKIP_TOOL) cannotRun('tool', 'AHL_SKIP_TOOL is set');
else if (!built) cannotRun('tool', 'the build failed');
else guestTiers.push(timed('tool', () => vitestTier('tool', 'tier tool', 'vitest.tool.config.ts', '[tool]')));

// Tier 4, end to end: real QEMU guests. Needs root (namespaces, debootstrap) and the system packages bootstrap installs.
const e2eMissing = [];
if (process.getuid?.() !== 0) e2eMissing.push('root');
for (const tool of ['qemu-system-x86_64', 'qemu-img', 'debootstrap', 'genisoimage', 'sfdisk', 'ip', 'ssh', 'socat']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status !== 0) e2eMissing.push(tool);
}
if (process.env.AHL_SKIP_E2E) cannotRun('e2e', 'AHL_SKIP_E2E is set');
else if (e2eMissing.length) cannotRun('e2e', `needs ${e2eMissing.join(', ')} (scripts/bootstrap installs the tools, as root or through sudo)`);
else if (!built) cannotRun('e2e', 'the build failed');
else guestTiers.push(timed('e2e', () => vitestTier('e2e', 'tier e2e', 'vitest.e2e.config.ts', '[e2e] ')));
await Promise.all(guestTiers);

times.push(['total (tests)', Date.now() - started]);
const slowest = files.sort((a, b) => b.ms - a.ms).slice(0, 10);
process.stderr.write(
  [
    '',
    '=== summary',
    ...summary,
    '',
    '=== wall time (the tool and e2e tiers run at the same time)',
    ...times.map(([name, ms]) => `${name.padEnd(22)} ${minutes(ms).padStart(7)}`),
    '',
    '=== ten slowest test files',
    ...slowest.map((f) => `${seconds(f.ms).padStart(7)}  ${f.tier.padEnd(8)} ${f.file}`),
    '',
  ].join('\n'),
);
process.stdout.write(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exitCode = totals.failed === 0 ? 0 : 1;
