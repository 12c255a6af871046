import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { COMMANDS, findCommand } from '../packages/cli/dist/index.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** just's own binary (rust-just's platform package), which starts in milliseconds; else its Node shim. */
function justBinary(): string {
  try {
    const require = createRequire(realpathSync(join(REPO, 'node_modules/rust-just/package.json')));
    const bin = join(dirname(require.resolve(`rust-just-${process.platform}-${process.arch}/package.json`)), 'bin', 'just');
    if (existsSync(bin)) return bin;
  } catch {
    // Another layout: the shim finds it.
  }
  return join(REPO, 'node_modules', '.bin', 'just');
}
const JUST = justBinary();
const just = (...args: string[]) => spawnSync(JUST, args, { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const AHL = join(REPO, 'packages/cli/dist/bin.js');
/** Options every command takes (the CLI's GLOBAL_OPTIONS). */
const GLOBAL = { json: { type: 'boolean' }, dir: { type: 'string' }, 'no-color': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;

interface Recipe {
  name: string;
  parameters: { name: string; default: string | null }[];
}
const dump = JSON.parse(just('--dump', '--dump-format', 'json').stdout) as { recipes: Record<string, Recipe>; aliases: Record<string, { target: string }> };

/** A value for each parameter a recipe takes, so that every option it can pass is passed. */
const SAMPLE: Record<string, string> = {
  TARGET: 'docker',
  HOST: 'docker-01',
  NAME: 'ubuntu-noble',
  VERSION: 'v20260101',
  SNAPSHOT: 'snap-1',
  TAGS: 'base',
  STACK: 'whoami',
  BASE: 'HEAD~1',
  HEAD: 'HEAD',
  OUT: '/tmp/ahl-render',
};

/** The commands a recipe runs with these arguments, as `just --dry-run` prints them. */
function commandLines(recipe: string, args: readonly string[]): string[] {
  const r = just('--dry-run', recipe, ...args);
  expect(r.status, `${recipe} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stderr.trim().split('\n').filter(Boolean);
}

/** Checks one `ahl …` line against the CLI's own definitions: the command exists, takes these options and this many arguments. */
function checkAhl(line: string): string {
  const argv = line.slice(line.indexOf(AHL) + AHL.length).trim().split(/\s+/).filter(Boolean);
  const firstFlag = argv.findIndex((a) => a.startsWith('-'));
  const { cmd, rest } = findCommand(COMMANDS, firstFlag === -1 ? argv : argv.slice(0, firstFlag));
  expect(cmd, `no ahl command in "${line}"`).toBeDefined();
  const options = { ...GLOBAL, ...Object.fromEntries((cmd!.options ?? []).map((o) => [o.name, { type: o.type, ...(o.short ? { short: o.short } : {}) }])) };
  const parsed = parseArgs({ args: [...rest, ...(firstFlag === -1 ? [] : argv.slice(firstFlag))], options, allowPositionals: true, strict: true });
  const max = cmd!.positionals?.length ?? 0;
  const min = cmd!.positionals?.filter((p) => !p.optional).length ?? 0;
  expect(parsed.positionals.length, `"${line}": ${cmd!.name} takes ${min}–${max} arguments`).toBeLessThanOrEqual(max);
  expect(parsed.positionals.length, `"${line}": ${cmd!.name} takes ${min}–${max} arguments`).toBeGreaterThanOrEqual(min);
  for (const [name, value] of Object.entries(parsed.values)) if (typeof value === 'string') expect(value, `--${name} in "${line}"`).not.toBe('');
  return cmd!.name;
}

/** Checks a line that is not ahl: a script of this repository or a package.json script. */
function checkOther(line: string): void {
  const [tool, arg] = line.replace(/^@/, '').split(/\s+/);
  if (tool === 'bash') expect(existsSync(join(REPO, arg!)), line).toBe(true);
  else if (tool === 'pnpm') expect(Object.keys(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts), line).toContain(arg);
  else expect(tool, line).toBe('just');
}

describe('Justfile', () => {
  const recipes = just('--summary').stdout.trim().split(/\s+/);

  it('has the everyday operator recipes, under the names the original lab\'s operators know', () => {
    for (const r of [
      'validate', 'schema', 'l0-runway', 'l1-image-build', 'l1-image-prune', 'l1-cloud-init', 'l1-ubuntu-template', 'l1-haos-template', 'l1-truenas-template',
      'l1-haos-capture', 'l1-truenas-capture', 'l2-plan', 'l2-apply', 'l2-destroy', 'l2-passthrough', 'l3-truenas', 'l3-converge', 'l3-reboot',
      'l3-shutdown', 'l3-start', 'l4-converge', 'up', 'plan', 'rebuild', 'status', 'drift', 'reconcile', 'diff', 'render', 'graph', 'backup', 'restore', 'test',
    ])
      expect(recipes).toContain(r);
    expect(dump.aliases['l1-arch-cloud-init']?.target).toBe('l1-cloud-init');
  });

  it('every recipe runs a real ahl command with options it has, with every optional argument given and with none', () => {
    const used = new Set<string>();
    for (const recipe of Object.values(dump.recipes)) {
      const full = recipe.parameters.map((p) => (p.default ? p.default : (SAMPLE[p.name] ?? '1')));
      const bare = recipe.parameters.filter((p) => p.default === null).map((p) => SAMPLE[p.name] ?? '1');
      for (const args of [full, bare]) {
        const lines = commandLines(recipe.name, args);
        expect(lines.length, recipe.name).toBeGreaterThan(0);
        for (const line of lines) {
          if (line.includes(AHL)) used.add(checkAhl(line));
          else checkOther(line);
        }
      }
    }
    // A recipe for every everyday command.
    for (const c of [
      'validate', 'up', 'plan', 'runway', 'apply', 'destroy', 'rebuild', 'image build', 'image promote', 'image rollback', 'image list', 'image prune',
      'image capture', 'image restore-capture', 'image seed', 'passthrough', 'converge system', 'converge workload', 'backup', 'restore', 'status', 'drift',
      'reconcile', 'graph', 'diff', 'render', 'power', 'lab up', 'lab status', 'lab down', 'schema',
    ])
      expect(used, `no recipe runs ahl ${c}`).toContain(c);
  });

  it('`just validate` runs ahl validate on the example lab', () => {
    const r = just('validate');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('is valid');
  });

  it('`just graph` draws the example lab', () => {
    const r = just('graph');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^flowchart LR\n/);
  });

  it('`just up` and `just plan` run ahl up and ahl plan', () => {
    expect(just('--dry-run', 'up', 'docker', '1').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? up docker --approve/);
    expect(just('--dry-run', 'plan', 'docker', 'markdown').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? plan docker --format markdown/);
  });

  it('the L2 recipes run ahl apply and ahl destroy', () => {
    expect(just('--dry-run', 'l2-plan', 'docker').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? apply docker\s*$/m);
    expect(just('--dry-run', 'l2-apply', 'docker', '1').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? apply docker --approve/);
    expect(just('--dry-run', 'l2-destroy', 'docker-03', '1').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? destroy docker-03 --approve/);
  });

  it('`just rebuild` runs ahl rebuild', () => {
    expect(just('--dry-run', 'rebuild', 'docker-01', '1', '1').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? rebuild docker-01 --resume --approve/);
  });

  it('acting recipes plan unless APPROVE is given', () => {
    expect(just('--dry-run', 'reconcile', 'docker').stderr).toMatch(/bin\.js"? reconcile docker --plan\s*$/m);
    expect(just('--dry-run', 'reconcile', 'docker', '1').stderr).toMatch(/bin\.js"? reconcile docker\s*$/m);
    expect(just('--dry-run', 'l3-shutdown', 'docker').stderr).toMatch(/bin\.js"? power shutdown docker\s*$/m);
    expect(just('--dry-run', 'l3-truenas').stderr).toMatch(/bin\.js"? passthrough nas\s*$/m);
    expect(just('--dry-run', 'l1-image-prune', 'ubuntu-noble', '2', '1').stderr).toMatch(/bin\.js"? image prune ubuntu-noble --keep 2 --approve/);
  });

  it('`just render` prints what every layer would apply', () => {
    const r = just('render');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^--- l2\/main\.tf\.json$/m);
  });
});
