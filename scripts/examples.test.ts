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
  it('the GitHub Actions workflow is YAML with the review, plan, apply and drift jobs', () => {
    const wf = parse(readFileSync(join(EXAMPLES, 'github-actions/ahl.yml'), 'utf8'));
    expect(Object.keys(wf.jobs)).toEqual(['review', 'plan', 'apply', 'drift']);
    expect(wf.jobs.apply.environment).toBe('homelab');
  });

  it('a pull request runs with no secret, off the lab\'s runner, and only commands that read the repository', () => {
    const text = readFileSync(join(EXAMPLES, 'github-actions/ahl.yml'), 'utf8');
    const wf = parse(text);
    expect(Object.keys(wf.on)).not.toContain('pull_request_target');
    expect(JSON.stringify(wf.env ?? {})).not.toMatch(/secrets\./);
    for (const [name, job] of Object.entries(wf.jobs as Record<string, { if?: string; 'runs-on': unknown; environment?: string }>)) {
      const onPr = (job.if ?? '').includes('pull_request');
      if (!onPr) continue;
      expect(name).toBe('review');
      expect(JSON.stringify(job)).not.toMatch(/secrets\./);
      expect(job['runs-on']).toBe('ubuntu-latest');
      const cmds = JSON.stringify(job).match(/ahl (\w+)/g) ?? [];
      for (const c of cmds) expect(['ahl validate', 'ahl diff', 'ahl render'], c).toContain(c);
    }
    // Every job that holds a secret runs only for main, a schedule or by hand, behind an environment.
    for (const job of Object.values(wf.jobs as Record<string, { if?: string; environment?: string }>))
      if (JSON.stringify(job).includes('secrets.')) {
        expect(job.if).not.toMatch(/pull_request/);
        expect(job.environment).toBeDefined();
      }
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
