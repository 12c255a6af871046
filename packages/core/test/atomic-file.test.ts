import { fstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAhlError, writeFileAtomic, writeJsonAtomic } from '../src/index.js';

const root = () => mkdtempSync(join(tmpdir(), 'ahl-atomic-'));

describe('writeFileAtomic', () => {
  let restore: (() => void) | undefined;
  afterEach(() => {
    restore?.();
    restore = undefined;
  });

  it('fsyncs the new file before it takes the name, and the folder after', async () => {
    const dir = root();
    const file = join(dir, 'channels.json');
    writeFileSync(file, 'old\n');
    // Every fsync, with what the file's name held at that moment.
    const syncs: { what: 'file' | 'folder'; nameHeld: string }[] = [];
    const probe = await open(file, 'r');
    const proto = Object.getPrototypeOf(probe) as { sync: (this: { fd: number }) => Promise<void> };
    await probe.close();
    const sync = proto.sync;
    proto.sync = function (this: { fd: number }) {
      syncs.push({ what: fstatSync(this.fd).isDirectory() ? 'folder' : 'file', nameHeld: readFileSync(file, 'utf8') });
      return sync.call(this);
    };
    restore = () => {
      proto.sync = sync;
    };
    await writeFileAtomic(file, 'new\n');
    expect(syncs).toEqual([
      { what: 'file', nameHeld: 'old\n' },
      { what: 'folder', nameHeld: 'new\n' },
    ]);
    expect(readdirSync(dir)).toEqual(['channels.json']);
  });

  it('makes the folder, and writes JSON as the records are written', async () => {
    const dir = root();
    await writeJsonAtomic(join(dir, 'a', 'b', 'x.json'), { b: 1, a: [true] });
    expect(readFileSync(join(dir, 'a', 'b', 'x.json'), 'utf8')).toBe('{\n  "b": 1,\n  "a": [\n    true\n  ]\n}\n');
  });

  it('fails with FILE_UNWRITABLE, leaving the old content and no temporary file', async () => {
    const dir = root();
    const file = join(dir, 'state.json');
    mkdirSync(file);
    writeFileSync(join(file, 'inside'), 'kept');
    const err = await writeFileAtomic(file, '{}\n').catch((e: unknown) => e);
    expect(isAhlError(err) && [err.code, err.kind, err.message]).toEqual(['FILE_UNWRITABLE', 'environment', `cannot write ${file}: EISDIR`]);
    expect(readdirSync(dir)).toEqual(['state.json']);
    expect(readFileSync(join(file, 'inside'), 'utf8')).toBe('kept');
  });
});
