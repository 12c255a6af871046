import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImageRecords } from '../src/index.js';

describe('readImageRecords', () => {
  const records = (files: Record<string, string>) => {
    const root = mkdtempSync(join(tmpdir(), 'ahl-records-'));
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), text);
    }
    return root;
  };

  it('is empty for an image never built', async () => {
    expect(await readImageRecords(records({}), 'deb')).toEqual({ image: 'deb', manifests: [], channels: { channels: {}, history: {} } });
  });

  it('names the file and what is wrong with a record that is cut short or of another shape (RECORD_INVALID, exit 1)', async () => {
    const cut = records({ 'images/deb/artifacts/20261101-000000.json': '{"version": "2026' });
    await expect(readImageRecords(cut, 'deb')).rejects.toMatchObject({ code: 'RECORD_INVALID', kind: 'invalid', message: expect.stringContaining(join(cut, 'images/deb/artifacts/20261101-000000.json')) });
    const shape = records({ 'images/deb/channels.json': '{"channels": 3}' });
    await expect(readImageRecords(shape, 'deb')).rejects.toMatchObject({ code: 'RECORD_INVALID', message: expect.stringMatching(/channels\.json is not a template record: channels: /) });
  });
});
