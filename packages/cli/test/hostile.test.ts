import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Document, isScalar, parseDocument, visit } from 'yaml';
import { ahl, writeTree } from './helpers.js';
import { baseLab, HOSTILE_CASES } from './hostile-corpus.js';

/*
 * The hostile-input corpus through the real CLI: `ahl validate`, then `ahl render` when the lab is
 * valid. A canary folder outside the lab holds a secret; a home folder holds an SSH key. Whatever
 * the case, no command ran (`{CANARY}/ran` never appears), neither secret reaches any output, and
 * nothing is written outside the lab. A rendered case is also checked for encoding: every Terraform
 * string has its template openers escaped, every Ansible string is `!unsafe`.
 */

/** Every file under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Strings of a Terraform JSON value that Terraform would read as a template. */
function terraformTemplates(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (/[$%]\{/.test(value.replace(/\$\$\{|%%\{/g, ''))) out.push(value);
  } else if (Array.isArray(value)) value.forEach((v) => terraformTemplates(v, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) terraformTemplates([k, v], out);
  return out;
}

/** String values of an Ansible YAML file that are not tagged !unsafe. */
function templatedStrings(text: string): string[] {
  const doc: Document = parseDocument(text, { customTags: [{ tag: '!unsafe', resolve: (s: string) => s }] });
  const out: string[] = [];
  visit(doc, {
    Scalar(key, node) {
      if (key !== 'key' && isScalar(node) && typeof node.value === 'string' && node.tag !== '!unsafe') out.push(node.value);
    },
  });
  return out;
}

describe(`hostile-input corpus (${HOSTILE_CASES.length} cases): refused with FILE:LINE, or rendered as data; nothing runs, nothing leaks`, () => {
  it('has at least 40 cases with distinct names', () => {
    expect(HOSTILE_CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(HOSTILE_CASES.map((c) => c.name)).size).toBe(HOSTILE_CASES.length);
  });

  it.each(HOSTILE_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const canary = mkdtempSync(join(tmpdir(), 'ahl-canary-'));
    const secret = `CANARY-${randomBytes(8).toString('hex')}`;
    writeFileSync(join(canary, 'secret.txt'), secret);
    const home = mkdtempSync(join(tmpdir(), 'ahl-home-'));
    const key = `KEY-${randomBytes(8).toString('hex')}`;
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.ssh/id_ed25519'), key);
    const dir = mkdtempSync(join(tmpdir(), 'ahl-hostile-'));
    const files = baseLab();
    c.edit(files);
    writeTree(dir, Object.fromEntries(Object.entries(files).map(([p, t]) => [p, t.replaceAll('{CANARY}', canary)])));
    c.setup?.(dir, canary);
    const env = { HOME: home, PM_TOKEN_SECRET: 'not-used', NO_COLOR: '1' };

    const started = Date.now();
    const validate = await ahl(['validate', '--json', '--dir', dir], { env, cwd: dir });
    const validateMs = Date.now() - started;
    const outputs = [validate.stdout, validate.stderr];
    if (c.refused) {
      expect(validate.code, validate.stderr).toBe(1);
      const errors = (JSON.parse(validate.stdout) as { errors: { file: string; line: number; col: number; field: string; message: string }[] }).errors.map(
        (d) => `${d.file}:${d.line}:${d.col} ${d.field ? `${d.field}: ` : ''}${d.message}`,
      );
      expect(errors.some((e) => c.refused!.test(e)), errors.join('\n')).toBe(true);
      // A clear error, quickly: the alias bomb and the 10 MB file included.
      expect(validateMs).toBeLessThan(c.name === 'yaml-huge-file' ? 5000 : 2000);
    } else {
      expect(validate.code, validate.stdout + validate.stderr).toBe(0);
      const render = await ahl(['render', '--json', '--dir', dir], { env, cwd: dir });
      expect(render.code, render.stderr).toBe(0);
      outputs.push(render.stdout, render.stderr);
      const rendered = (JSON.parse(render.stdout) as { files: Record<string, string> }).files;
      expect(Object.keys(rendered)).toEqual(expect.arrayContaining(['l2/main.tf.json', 'l3/inventory.yml', 'l3/host_vars/app-01.yml', 'l4/host_vars/app-01.yml']));
      expect(terraformTemplates(JSON.parse(rendered['l2/main.tf.json']!))).toEqual([]);
      for (const [p, text] of Object.entries(rendered)) if (/^l[34]\/.*\.yml$/.test(p)) expect(templatedStrings(text), p).toEqual([]);
    }
    // The canary: nothing ran, nothing outside the lab was read into any output or written anywhere.
    expect(existsSync(join(canary, 'ran'))).toBe(false);
    for (const o of outputs) {
      expect(o).not.toContain(secret);
      expect(o).not.toContain(key);
    }
    expect(tree(canary)).toEqual(['secret.txt']);
    expect(tree(home)).toEqual(['.ssh/id_ed25519']);
    expect(readFileSync(join(canary, 'secret.txt'), 'utf8')).toBe(secret);
  });
});
