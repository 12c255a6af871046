/*
 * Tests whose prerequisite (a tool, a built file, a reference document) may be missing on a machine.
 *
 * Outside CI such a test is skipped, with what it needs in its name. Under CI (CI set, and not
 * "false" or "0") a missing prerequisite is a failure: one test that names what is missing, so a
 * tier cannot pass by not running (../shared/design/TESTING.md).
 *
 * Shared by every package's tests by relative path (`../../../test-support/prerequisites.js`); it is
 * not a package, and no package's src may import it (.dependency-cruiser.cjs).
 */
import { describe as vitestDescribe, expect, it as vitestIt, type SuiteOptions, type TestFunction, type TestOptions } from 'vitest';

/** Whether this run is under CI: CI is set to anything but '', 'false' or '0'. */
export function underCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

export interface Prerequisites {
  /** What is missing, as given ([] when everything is there). */
  readonly missing: readonly string[];
  /**
   * vitest's describe when nothing is missing. Otherwise: outside CI, skipped, named
   * `NAME (skipped: needs X, Y)`; under CI, `NAME` holds only one failing test,
   * `prerequisites: needs X, Y`, and `fn` (its hooks, its tests) is not run.
   */
  readonly describe: (name: string, fn: () => void, options?: SuiteOptions) => void;
  /** vitest's it, likewise: skipped outside CI, one failing test `NAME (prerequisites: needs X, Y)` under CI. */
  readonly it: (name: string, fn: TestFunction, options?: TestOptions) => void;
}

/**
 * `missing` lists what a test needs and this machine lacks, each entry saying where it comes from,
 * e.g. `genisoimage (apt; bash scripts/bootstrap installs it)`. Falsy entries are dropped, so a
 * site can write `[!has('genisoimage') && 'genisoimage (…)']`.
 */
export function prerequisites(missing: readonly (string | false | null | undefined)[], env: NodeJS.ProcessEnv = process.env): Prerequisites {
  const lacking = missing.filter((m): m is string => typeof m === 'string' && m !== '');
  if (lacking.length === 0) {
    return {
      missing: lacking,
      describe: (name, fn, options) => vitestDescribe(name, options ?? {}, fn),
      it: (name, fn, options) => vitestIt(name, options ?? {}, fn),
    };
  }
  const needs = `needs ${lacking.join(', ')}`;
  if (!underCi(env)) {
    return {
      missing: lacking,
      describe: (name, fn, options) => vitestDescribe.skip(`${name} (skipped: ${needs})`, options ?? {}, fn),
      it: (name, fn, options) => vitestIt.skip(`${name} (skipped: ${needs})`, options ?? {}, fn),
    };
  }
  const fail = (): void => {
    expect(lacking, `under CI a test's prerequisites must be there (bash scripts/bootstrap installs the tools; pnpm build builds dist); missing: ${lacking.join('; ')}`).toEqual([]);
  };
  return {
    missing: lacking,
    describe: (name) => vitestDescribe(name, () => vitestIt(`prerequisites: ${needs}`, fail)),
    it: (name) => vitestIt(`${name} (prerequisites: ${needs})`, fail),
  };
}
