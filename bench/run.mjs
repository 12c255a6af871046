#!/usr/bin/env node
// `pnpm bench`: every benchmark, one after another. Each prints its table and writes bench/results/<name>.json.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHES = ['validate', 'sim', 'runway', 'status', 'plan', 'versus', 'clones', 'tasks', 'converge', 'lab', 'rebuild'];
let failed = 0;
for (const b of BENCHES) {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(`./${b}/run.mjs`, import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
