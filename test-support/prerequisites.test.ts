import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { underCi } from './prerequisites.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const VITEST = join(HERE, '..', 'node_modules', 'vitest', 'vitest.mjs');

interface Result {
  name: string;
  status: string;
  failure: string;
}

/** Runs fixtures/prerequisites.fixture.ts in a child vitest with `env`; each test's full name, status and failure. */
function run(env: Record<string, string>): Result[] {
  const r = spawnSync(process.execPath, [VITEST, 'run', '--config', join(HERE, 'fixtures', 'vitest.config.ts'), '--reporter=json'], {
    cwd: join(HERE, 'fixtures'),
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', ...env },
  });
  const report = JSON.parse(r.stdout) as { testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[] };
  return report.testResults
    .flatMap((f) => f.assertionResults)
    .map((a) => ({ name: a.fullName, status: a.status, failure: a.failureMessages.join('\n') }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('prerequisites', { timeout: 60_000 }, () => {
  it('runs the tests as they are when nothing is missing, under CI or not', () => {
    const expected = [
      { name: 'a suite runs', status: 'passed', failure: '' },
      { name: 'a test', status: 'passed', failure: '' },
    ];
    expect(run({ CI: 'true' })).toEqual(expected);
    expect(run({})).toEqual(expected);
  });

  it('outside CI, skips them with what they need in their names', () => {
    const skipped = run({ AHL_FIXTURE_MISSING: 'tool-x (bootstrap installs it),tool-y' });
    expect(skipped.map((t) => [t.name, t.status])).toEqual([
      ['a suite (skipped: needs tool-x (bootstrap installs it), tool-y) runs', 'skipped'],
      ['a test (skipped: needs tool-x (bootstrap installs it), tool-y)', 'skipped'],
    ]);
    expect(run({ CI: 'false', AHL_FIXTURE_MISSING: 'tool-x' }).map((t) => t.status)).toEqual(['skipped', 'skipped']);
  });

  it('under CI, fails instead, naming what is missing; the suite body does not run', () => {
    const failed = run({ CI: 'true', AHL_FIXTURE_MISSING: 'tool-x (bootstrap installs it),tool-y' });
    expect(failed.map((t) => [t.name, t.status])).toEqual([
      ['a suite prerequisites: needs tool-x (bootstrap installs it), tool-y', 'failed'],
      ['a test (prerequisites: needs tool-x (bootstrap installs it), tool-y)', 'failed'],
    ]);
    for (const t of failed) expect(t.failure).toContain("under CI a test's prerequisites must be there");
    for (const t of failed) expect(t.failure).toContain('missing: tool-x (bootstrap installs it); tool-y');
  });

  it('takes CI to be set unless it is empty, "false" or "0"', () => {
    expect([undefined, '', 'false', 'FALSE', '0', 'true', '1', 'yes'].map((CI) => underCi(CI === undefined ? {} : { CI }))).toEqual([false, false, false, false, false, true, true, true]);
  });
});
