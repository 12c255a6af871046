import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const DEPCRUISE = join(REPO, 'node_modules', '.bin', 'depcruise');

/** A throwaway workspace with the repo's rule file, two layers and whatever imports a test plants. */
function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-layers-'));
  cpSync(join(REPO, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  cpSync(join(REPO, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
  const base: Record<string, string> = {
    'packages/l3-system/package.json': JSON.stringify({ name: '@ahl/l3-system', type: 'module', exports: { '.': './dist/index.js' } }),
    'packages/l4-workload/package.json': JSON.stringify({ name: '@ahl/l4-workload', type: 'module', exports: { '.': './dist/index.js' } }),
    'packages/l4-workload/src/index.ts': 'export const stacks = 1;\n',
    'packages/l4-workload/dist/index.js': 'export const stacks = 1;\n',
    'packages/l3-system/src/index.ts': 'export const system = 1;\n',
    'packages/l3-system/dist/index.js': 'export const system = 1;\n',
    ...files,
  };
  for (const [rel, text] of Object.entries(base)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  mkdirSync(join(dir, 'node_modules', '@ahl'), { recursive: true });
  symlinkSync(join(dir, 'packages', 'l4-workload'), join(dir, 'node_modules', '@ahl', 'l4-workload'));
  symlinkSync(join(dir, 'packages', 'l3-system'), join(dir, 'node_modules', '@ahl', 'l3-system'));
  return dir;
}

function cruise(dir: string): { code: number; output: string } {
  try {
    const output = execFileSync(DEPCRUISE, ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', 'packages'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    return { code: 0, output };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, output: `${err.stdout}${err.stderr}` };
  }
}

describe('layer direction (dependency-cruiser)', () => {
  it('accepts a downward import', () => {
    const r = cruise(workspace({ 'packages/l4-workload/src/uses-l3.ts': "import { system } from '@ahl/l3-system';\nexport const x = system;\n" }));
    expect(r.output).toContain('no dependency violations');
    expect(r.code).toBe(0);
  });

  it('rejects L3 importing L4 by package name', () => {
    const r = cruise(workspace({ 'packages/l3-system/src/planted.ts': "import { stacks } from '@ahl/l4-workload';\nexport const x = stacks;\n" }));
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('no-upward-import-from-l3-system');
    expect(r.output).toContain('packages/l3-system/src/planted.ts');
  });

  it('rejects L3 importing L4 through a relative path', () => {
    const r = cruise(workspace({ 'packages/l3-system/src/planted.ts': "import { stacks } from '../../l4-workload/src/index.js';\nexport const x = stacks;\n" }));
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('no-upward-import-from-l3-system');
    expect(r.output).toContain('no-reaching-into-another-package');
  });

  it('rejects a layer importing @ahl/ops, which composes the layers', () => {
    const ops = {
      'packages/ops/package.json': JSON.stringify({ name: '@ahl/ops', type: 'module', exports: { '.': './dist/index.js' } }),
      'packages/ops/src/index.ts': 'export const up = 1;\n',
      'packages/ops/dist/index.js': 'export const up = 1;\n',
      'packages/l4-workload/src/planted.ts': "import { up } from '@ahl/ops';\nexport const x = up;\n",
    };
    const dir = workspace(ops);
    symlinkSync(join(dir, 'packages', 'ops'), join(dir, 'node_modules', '@ahl', 'ops'));
    const r = cruise(dir);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('no-upward-import-from-l4-workload');
    expect(r.output).toContain('packages/l4-workload/src/planted.ts');
  });

  it('rejects a CLI command importing another command; what they share lives in runs/ or views/', () => {
    const files = {
      'packages/cli/src/commands/b.ts': 'export const shared = 1;\n',
      'packages/cli/src/runs/shared.ts': 'export const shared = 1;\n',
      'packages/cli/src/commands/index.ts': "import { shared } from './b.js';\nexport const all = shared;\n",
    };
    const r = cruise(workspace({ ...files, 'packages/cli/src/commands/a.ts': "import { shared } from './b.js';\nexport const x = shared;\n" }));
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('no-command-imports-a-command');
    expect(r.output).toContain('packages/cli/src/commands/a.ts');
  });

  it('keeps command files to specs (their handler loaded when they run), and handlers apart from each other', () => {
    const files = {
      'packages/cli/src/command.ts': 'export const GLOBAL = 1;\n',
      'packages/cli/src/runs/shared.ts': 'export const shared = 1;\n',
      'packages/cli/src/handlers/b.ts': "import { shared } from '../runs/shared.js';\nexport const b = shared;\n",
      'packages/cli/src/commands/index.ts': "import { a } from './a.js';\nexport const all = a;\n",
    };
    const spec = "import { GLOBAL } from '../command.js';\nexport const a = { g: GLOBAL, run: () => import('../handlers/a.js') };\n";
    const fine = cruise(workspace({ ...files, 'packages/cli/src/commands/a.ts': spec, 'packages/cli/src/handlers/a.ts': "import { shared } from '../runs/shared.js';\nexport const x = shared;\n" }));
    expect(fine.output).toContain('no dependency violations');
    const heavy = cruise(workspace({ ...files, 'packages/cli/src/commands/a.ts': "import { shared } from '../runs/shared.js';\nexport const a = shared;\n" }));
    expect(heavy.code).not.toBe(0);
    expect(heavy.output).toContain('commands-are-specs');
    const crossed = cruise(workspace({ ...files, 'packages/cli/src/commands/a.ts': spec, 'packages/cli/src/handlers/a.ts': "import { b } from './b.js';\nexport const x = b;\n" }));
    expect(crossed.code).not.toBe(0);
    expect(crossed.output).toContain('no-handler-imports-a-handler');
  });

  it('lets a test import test-support/, and rejects a package source that does', () => {
    const files = { 'test-support/prerequisites.ts': 'export const prerequisites = 1;\n' };
    const test = cruise(workspace({ ...files, 'packages/l3-system/test/uses.test.ts': "import { prerequisites } from '../../../test-support/prerequisites.js';\nexport const x = prerequisites;\n" }));
    expect(test.output).toContain('no dependency violations');
    expect(test.code).toBe(0);
    const src = cruise(workspace({ ...files, 'packages/l3-system/src/planted.ts': "import { prerequisites } from '../../../test-support/prerequisites.js';\nexport const x = prerequisites;\n" }));
    expect(src.code).not.toBe(0);
    expect(src.output).toContain('no-test-support-in-src');
    expect(src.output).toContain('packages/l3-system/src/planted.ts');
  });

  it('passes on the real repository', () => {
    const out = execFileSync(DEPCRUISE, ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', 'packages/*/src', 'packages/*/test'], { cwd: REPO, encoding: 'utf8' });
    expect(out).toContain('no dependency violations');
  });
});
