import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMANDS, findCommand } from '../packages/cli/dist/index.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(REPO, 'examples');
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));

/** Every `ahl …` command line in the examples (workflow steps, ExecStart lines). */
function ahlLines(): { file: string; line: string }[] {
  const out: { file: string; line: string }[] = [];
  for (const file of files(EXAMPLES).filter((f) => !f.endsWith('.md'))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:run: |ExecStart=\/usr\/bin\/env )ahl ([^\n]+)/g)) out.push({ file, line: m[1]!.replace(/\s*>.*$/, '') });
  }
  return out;
}

describe('examples/', () => {
  it('the GitHub Actions workflow is YAML with the plan, apply and drift jobs', () => {
    const wf = parse(readFileSync(join(EXAMPLES, 'github-actions/ahl.yml'), 'utf8'));
    expect(Object.keys(wf.jobs)).toEqual(['plan', 'apply', 'drift']);
    expect(wf.jobs.apply.environment).toBe('homelab');
  });

  it('uses only ahl commands and options that exist', () => {
    const lines = ahlLines();
    expect(lines.length).toBeGreaterThan(8);
    for (const { file, line } of lines) {
      const words = line.split(/\s+/).map((w) => w.replace(/^"|"$/g, ''));
      const { cmd } = findCommand(COMMANDS, words);
      expect(cmd, `${file}: ahl ${line}`).toBeDefined();
      const known = new Set(['json', 'dir', 'no-color', 'help', ...(cmd!.options ?? []).map((o) => o.name)]);
      for (const flag of words.filter((w) => w.startsWith('--'))) expect(known.has(flag.slice(2)), `${file}: ${flag} in ahl ${line}`).toBe(true);
    }
  });
});
