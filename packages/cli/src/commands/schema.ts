import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { CommandDef } from '../command.js';
import { labRoot } from '../runs/lab-root.js';

export const schemaCommand: CommandDef = {
  name: 'schema',
  summary: 'print or write the JSON Schemas of lab.yaml, lab.local.yaml, images and personas, and of --json outputs',
  description:
    'The schemas are generated from the model ahl validates with. Editors with the YAML language server use them\n' +
    'through the `# yaml-language-server: $schema=…` line at the top of each file. `ahl schema status`, `drift`,\n' +
    '`up` (also `ahl plan`\'s) and `rebuild` give the schemas of those commands\' --json output, for scripts that read them.',
  positionals: [{ name: 'KIND', optional: true, description: 'lab, image, persona or local; status, drift, up or rebuild for an output (default: every lab file kind, as one JSON object keyed by file name)' }],
  options: [
    { name: 'write', type: 'boolean', description: 'write the files into the lab\'s schemas/ folder (or --out) instead of printing' },
    { name: 'out', type: 'string', value: 'DIR', description: 'folder for --write and --check (default: <lab>/schemas)' },
    { name: 'check', type: 'boolean', description: 'exit 1 when the files on disk differ from what this version generates' },
  ],
  examples: [
    { command: 'ahl schema persona', description: 'print the persona schema' },
    { command: 'ahl schema --write', description: 'refresh schemas/*.schema.json in the lab' },
    { command: 'ahl schema --check', description: 'in CI: fail when the committed schemas are stale' },
    { command: 'ahl schema status > status.output.schema.json', description: 'the schema of `ahl status --json`, to validate it in a script' },
  ],
  async run(ctx) {
    const { jsonSchema, jsonSchemaFiles, SCHEMA_FILES, ahlError } = await import('@ahl/core');
    const kind = ctx.positionals[0];
    const { OUTPUT_SCHEMAS, outputSchemaFile, outputSchemaText } = await import('@ahl/ops');
    const output = kind !== undefined && kind in OUTPUT_SCHEMAS ? (kind as keyof typeof OUTPUT_SCHEMAS) : undefined;
    if (kind !== undefined && !(kind in SCHEMA_FILES) && !output)
      throw ahlError('USAGE', { message: `unknown schema "${kind}"; expected one of ${[...Object.keys(SCHEMA_FILES), ...Object.keys(OUTPUT_SCHEMAS)].join(', ')}`, command: 'schema' });
    const { out } = ctx;
    if (output && !ctx.options.write && !ctx.options.check) {
      out.result(outputSchemaText(output).trimEnd());
      return 0;
    }
    if (!ctx.options.write && !ctx.options.check) {
      if (kind) out.result(JSON.stringify(jsonSchema(kind as keyof typeof SCHEMA_FILES), null, 2));
      else out.result(JSON.stringify(Object.fromEntries(Object.entries(jsonSchemaFiles()).map(([f, t]) => [f, JSON.parse(t)])), null, 2));
      return 0;
    }
    const dir = typeof ctx.options.out === 'string' ? resolve(ctx.cwd, ctx.options.out) : join(await labRoot(ctx), 'schemas');
    const wanted = output ? [[outputSchemaFile(output), outputSchemaText(output)] as const] : Object.entries(jsonSchemaFiles()).filter(([f]) => !kind || f === SCHEMA_FILES[kind as keyof typeof SCHEMA_FILES]);
    const stale: string[] = [];
    for (const [file, text] of wanted) {
      const path = join(dir, file);
      const current = await readFile(path, 'utf8').catch(() => undefined);
      if (current !== text) stale.push(path);
    }
    const shown = (p: string) => relative(ctx.cwd, p) || p;
    if (ctx.options.check) {
      for (const p of stale) out.line(`${out.style('red', '✗')} ${shown(p)} is stale; run \`ahl schema --write\``);
      if (!stale.length) out.line(`${out.style('green', '✓')} schemas are up to date`);
      if (ctx.global.json) out.json({ ok: stale.length === 0, stale: stale.map(shown) });
      return stale.length ? 1 : 0;
    }
    await mkdir(dir, { recursive: true });
    for (const [file, text] of wanted) if (stale.includes(join(dir, file))) await writeFile(join(dir, file), text);
    for (const p of stale) out.line(`wrote ${shown(p)}`);
    if (!stale.length) out.line('schemas are up to date; nothing written');
    if (ctx.global.json) out.json({ ok: true, written: stale.map(shown) });
    return 0;
  },
};
