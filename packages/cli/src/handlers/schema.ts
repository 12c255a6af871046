import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { ahlError, jsonSchema, jsonSchemaFiles, SCHEMA_FILES } from '@ahl/core';
import { OUTPUT_SCHEMAS, outputSchemaFile, outputSchemaText } from '@ahl/ops';
import type { CommandContext } from '../command.js';
import { labRoot } from '../runs/lab-root.js';

/** `ahl schema`. */
export async function schema(ctx: CommandContext): Promise<number> {
  const kind = ctx.positionals[0];
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
}
