import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256, treeDigest } from '../src/index.js';

describe('treeDigest', () => {
  it('changes with a file and its content, not with Python byte-code caches', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-digest-'));
    mkdirSync(join(dir, 'plugins'));
    writeFileSync(join(dir, 'plugins', 'cb.py'), 'x = 1\n');
    const before = await treeDigest(dir);
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    mkdirSync(join(dir, 'plugins', '__pycache__'));
    writeFileSync(join(dir, 'plugins', '__pycache__', 'cb.cpython-311.pyc'), 'bytes');
    expect(await treeDigest(dir)).toBe(before);
    writeFileSync(join(dir, 'plugins', 'cb.py'), 'x = 2\n');
    expect(await treeDigest(dir)).not.toBe(before);
    expect(await treeDigest(join(dir, 'missing'))).toBe(sha256(''));
  });
});
