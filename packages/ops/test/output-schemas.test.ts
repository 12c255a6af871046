import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDrift, DriftReportSchema, OUTPUT_SCHEMAS, outputSchemaFile, outputSchemaText, type OutputSchemaName } from '../src/index.js';

describe('the JSON Schemas of the --json outputs', () => {
  it('are published in schemas/ as this version generates them (node scripts/write-schemas.mjs refreshes them)', () => {
    for (const name of Object.keys(OUTPUT_SCHEMAS) as OutputSchemaName[])
      expect(readFileSync(new URL(`../schemas/${outputSchemaFile(name)}`, import.meta.url), 'utf8'), name).toBe(outputSchemaText(name));
  });

  it('refuse a field the output does not have, so a test of the real output fails when one is added without its schema', () => {
    const report = buildDrift({ at: new Date('2026-12-01T00:00:00Z'), states: new Map() });
    expect(DriftReportSchema.safeParse(JSON.parse(JSON.stringify(report))).success).toBe(true);
    expect(DriftReportSchema.safeParse({ ...report, extra: 1 }).success).toBe(false);
  });
});
