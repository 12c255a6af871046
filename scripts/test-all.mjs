#!/usr/bin/env node
// Runs every test tier, says which ran or were skipped and why, and ends with one line
// "N passed, N failed, N skipped" summing them all. Exit status 0 only when nothing failed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', FORCE_COLOR: process.env.FORCE_COLOR ?? '0' };
const totals = { passed: 0, failed: 0, skipped: 0 };
const summary = [];

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
  for (const f of report.testResults) {
    const rel = f.name.slice(ROOT.length);
    const project = rel.startsWith('packages/') ? rel.split('/')[1] : 'repo';
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

function run(title, cmd, args) {
  process.stderr.write(`\n=== ${title}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: ROOT, env, stdio: 'inherit' });
  return r.status === 0;
}

// Checks that gate the tests: each counts as one test in the totals.
const checks = [
  ['build', 'pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only']],
  ['typecheck', 'pnpm', ['exec', 'turbo', 'run', 'typecheck', '--output-logs=errors-only']],
  ['layer rule', 'pnpm', ['run', 'lint:layers']],
  ['JSON Schemas fresh', 'node', ['packages/cli/dist/bin.js', 'schema', '--check']],
];
let checksOk = true;
for (const [name, cmd, args] of checks) {
  const ok = run(`check ${name}`, cmd, args);
  totals[ok ? 'passed' : 'failed']++;
  summary.push(`check     ${name.padEnd(22)} ${ok ? 'passed' : 'FAILED'}`);
  if (!ok && name === 'build') checksOk = false;
}

// Tiers 1 and 2, unit and contract: every vitest project in one run.
const TIER_OF = { 'pve-sim': 'contract' };
if (checksOk) {
  const out = join(ROOT, '.ahl', 'test-results');
  mkdirSync(out, { recursive: true });
  const file = join(out, 'vitest.json');
  rmSync(file, { force: true });
  run('tiers unit + contract', 'pnpm', ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`]);
  tally(undefined, file);
} else {
  summary.push('unit      skipped: the build failed');
}

// Tier 3, tool: real terraform/tofu and ansible-playbook (*.tool.test.ts). A test whose tool cannot
// exist here skips itself and prints why; the skips are counted below.
const toolTests = spawnSync('sh', ['-c', 'ls packages/*/test/*.tool.test.ts 2>/dev/null'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
if (!toolTests) {
  summary.push('tool      skipped: no tool-tier tests yet (terraform with bpg/proxmox lands with L2, ansible-playbook on real VMs with L3)');
} else if (process.env.AHL_SKIP_TOOL) {
  summary.push('tool      skipped: AHL_SKIP_TOOL is set');
} else if (checksOk) {
  const file = join(ROOT, '.ahl', 'test-results', 'tool.json');
  rmSync(file, { force: true });
  run('tier tool', 'pnpm', ['exec', 'vitest', 'run', '--config', 'vitest.tool.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`]);
  tally('tool', file);
}

// Tier 4, end to end: real QEMU guests. Needs root (namespaces, debootstrap) and the system packages bootstrap installs.
const e2eMissing = [];
if (process.getuid?.() !== 0) e2eMissing.push('root');
for (const tool of ['qemu-system-x86_64', 'qemu-img', 'debootstrap', 'genisoimage', 'sfdisk', 'ip', 'ssh', 'socat']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status !== 0) e2eMissing.push(tool);
}
if (process.env.AHL_SKIP_E2E) {
  summary.push(`e2e       skipped: AHL_SKIP_E2E is set`);
} else if (e2eMissing.length) {
  summary.push(`e2e       skipped: needs ${e2eMissing.join(', ')} (scripts/bootstrap installs the tools when run as root)`);
} else if (checksOk) {
  const file = join(ROOT, '.ahl', 'test-results', 'e2e.json');
  rmSync(file, { force: true });
  run('tier e2e', 'pnpm', ['exec', 'vitest', 'run', '--config', 'vitest.e2e.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`]);
  tally('e2e', file);
}

process.stderr.write(`\n=== summary\n${summary.join('\n')}\n`);
process.stdout.write(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`);
process.exitCode = totals.failed === 0 ? 0 : 1;
