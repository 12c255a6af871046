#!/usr/bin/env node
// Writes schemas/<name>.output.schema.json, the published JSON Schemas of the commands' --json
// outputs, from the built package (pnpm --filter @ahl/ops build first). test/output-schemas.test.ts
// fails while they are stale.
import { writeFileSync } from 'node:fs';
import { OUTPUT_SCHEMAS, outputSchemaText } from '../dist/index.js';

for (const name of Object.keys(OUTPUT_SCHEMAS)) {
  const file = new URL(`../schemas/${name}.output.schema.json`, import.meta.url);
  writeFileSync(file, outputSchemaText(name));
  process.stdout.write(`wrote ${file.pathname}\n`);
}
