import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_STATUS, type ErrorKind } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { ahl, exampleLabCopy } from './helpers.js';

// docs/errors.md gives each kind of error the exit status core's EXIT_STATUS holds: the CLI must end
// with exactly that.
describe('the exit status of an error is the one docs/errors.md gives its kind', () => {
  const invalidLab = () => {
    const dir = exampleLabCopy();
    writeFileSync(join(dir, 'lab.yaml'), 'name: 42\n');
    return dir;
  };
  it.each<[ErrorKind, string, () => { argv: string[]; cwd?: string }]>([
    ['invalid', 'LAB_INVALID', () => ({ argv: ['graph', '--dir', invalidLab()] })],
    ['usage', 'USAGE', () => ({ argv: ['valdate'] })],
    ['environment', 'LAB_NOT_FOUND', () => ({ argv: ['graph'], cwd: '/' })],
  ])('%s (%s)', async (kind, code, make) => {
    const { argv, cwd } = make();
    const r = await ahl([...argv, '--json'], cwd ? { cwd } : {});
    expect((JSON.parse(r.stdout) as { error: { code: string; kind: string } }).error).toMatchObject({ code, kind });
    expect(r.code).toBe(EXIT_STATUS[kind]);
  });
});
