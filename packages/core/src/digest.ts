import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Hex SHA-256 of a string or bytes. */
export const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/**
 * sha256 over the sorted (path, sha256 of content) list of every file under `dir` (no entries when
 * it is missing). Python's byte-code caches (`__pycache__`, which running Ansible writes beside its
 * plugins) are not content and are left out, so the digest is the same before and after a run.
 */
export async function treeDigest(dir: string): Promise<string> {
  const entries: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let names;
    try {
      names = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of names) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '__pycache__') await walk(p);
      }
      else if (e.isFile()) entries.push(`${relative(dir, p)}\0${sha256(await readFile(p))}`);
    }
  };
  await walk(dir);
  return sha256(entries.sort().join('\n'));
}
