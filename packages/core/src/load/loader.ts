import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ahlError } from '../errors.js';
import { COMPOSE_FILES, LAB_FILE, LAB_LOCAL_FILE, validateLab, type LabInput, type ValidationResult } from './validate.js';
import type { SourceFile } from './yaml-source.js';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The nearest folder at or above `from` that holds lab.yaml, like git finds its root. */
export async function findLabRoot(from: string): Promise<string> {
  let dir = resolve(from);
  for (;;) {
    if (await exists(join(dir, LAB_FILE))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw ahlError('LAB_NOT_FOUND', { from: resolve(from) });
    dir = parent;
  }
}

async function listDir(path: string): Promise<{ name: string; dir: boolean }[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, dir: e.isDirectory() })).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ahlError('FILE_UNREADABLE', { path, reason: (e as Error).message });
  }
}

async function read(root: string, rel: string): Promise<SourceFile> {
  try {
    return { path: rel, text: await readFile(join(root, rel), 'utf8') };
  } catch (e) {
    throw ahlError('FILE_UNREADABLE', { path: rel, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
  }
}

/** Reads the lab's files from `root` (which must hold lab.yaml). Touches nothing but the local disk. */
export async function readLabInput(root: string): Promise<LabInput> {
  const absRoot = resolve(root);
  if (!(await exists(join(absRoot, LAB_FILE)))) throw ahlError('LAB_DIR_INVALID', { dir: absRoot });
  const rels = [LAB_FILE];
  if (await exists(join(absRoot, LAB_LOCAL_FILE))) rels.push(LAB_LOCAL_FILE);
  for (const dir of ['images', 'personas']) {
    for (const e of await listDir(join(absRoot, dir))) if (!e.dir && /\.ya?ml$/.test(e.name)) rels.push(`${dir}/${e.name}`);
  }
  const stacks: Record<string, string[]> = {};
  for (const e of await listDir(join(absRoot, 'stacks'))) {
    if (e.dir) stacks[e.name] = (await listDir(join(absRoot, 'stacks', e.name))).filter((f) => !f.dir).map((f) => f.name);
  }
  const files = await Promise.all(rels.map((rel) => read(absRoot, rel)));
  const composeRels = Object.entries(stacks).flatMap(([name, names]) => {
    const f = COMPOSE_FILES.find((c) => names.includes(c));
    return f ? [`stacks/${name}/${f}`] : [];
  });
  const composeFiles = await Promise.all(composeRels.map((rel) => read(absRoot, rel)));
  return { root: absRoot, files, stacks, composeFiles };
}

/** Reads and validates the lab at `root`. */
export async function loadLab(root: string): Promise<ValidationResult> {
  return validateLab(await readLabInput(root));
}
