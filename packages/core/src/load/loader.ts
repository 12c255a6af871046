import { createHash } from 'node:crypto';
import { open, readdir, readFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ahlError, isAhlError } from '../errors.js';
import { deepFreeze, type Lab } from '../model/lab.js';
import { writeJsonAtomic } from '../atomic-file.js';
import { sortDiagnostics } from './diagnostics.js';
import { COMPOSE_FILES, LAB_FILE, LAB_LOCAL_FILE, validateLab, type LabInput, type ValidationResult } from './validate.js';
import { YAML_LIMITS, type SourceFile } from './yaml-source.js';
import { checkLocalPaths, type LocalPathRef } from './local-paths.js';
import { labEnvKey, pickLabEnv, type LabEnv } from './env-fallbacks.js';

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

/**
 * One lab file. A file over YAML_LIMITS.fileBytes is not read: its size is handed on for validation
 * to report. Anything but a regular file (a link to a device, say) is refused before it is read.
 */
async function read(root: string, rel: string): Promise<SourceFile> {
  let file: FileHandle | undefined;
  try {
    file = await open(join(root, rel), 'r');
    const info = await file.stat();
    if (!info.isFile()) throw ahlError('FILE_UNREADABLE', { path: rel, reason: 'not a regular file' });
    if (info.size > YAML_LIMITS.fileBytes) return { path: rel, text: '', bytes: info.size };
    return { path: rel, text: await file.readFile('utf8') };
  } catch (e) {
    if (isAhlError(e)) throw e;
    throw ahlError('FILE_UNREADABLE', { path: rel, reason: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
  } finally {
    await file?.close();
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
  const templateRels = Object.entries(stacks).flatMap(([name, names]) => names.filter((n) => n.endsWith('.j2') && !n.startsWith('.')).map((n) => `stacks/${name}/${n}`));
  const templateFiles = await Promise.all(templateRels.map((rel) => read(absRoot, rel)));
  return { root: absRoot, files, stacks, composeFiles, templateFiles };
}

/**
 * Reads and validates the lab at `root`. `env` is the caller's environment (the CLI's, never read
 * here): the original lab's variables in it fill what lab.yaml leaves out (see env-fallbacks.ts).
 */
export async function loadLab(root: string, opts: { cache?: boolean; env?: LabEnv } = {}): Promise<ValidationResult> {
  const input: LabInput = { ...(await readLabInput(root)), ...(opts.env ? { env: pickLabEnv(opts.env) } : {}) };
  return withLocalPaths(input, await validated(input, opts));
}

/**
 * A valid lab's paths on this machine (those its files name, and every file of its stacks, which
 * may be links) checked to stay inside the repository; any that does not makes the lab invalid.
 */
async function withLocalPaths(input: LabInput, result: ValidationResult): Promise<ValidationResult> {
  if (!result.lab) return result;
  const stackFiles: LocalPathRef[] = Object.entries(input.stacks).flatMap(([name, files]) =>
    files.map((f) => ({ file: `stacks/${name}/${f}`, line: 1, col: 1, field: '', path: `stacks/${name}/${f}` })),
  );
  const errors = await checkLocalPaths(input.root, [...(result.localPaths ?? []), ...stackFiles], result.lab.config.localPaths);
  if (errors.length === 0) return result;
  const { lab: _lab, ...rest } = result;
  return { ...rest, errors: sortDiagnostics([...result.errors, ...errors]) };
}

async function validated(input: LabInput, opts: { cache?: boolean }): Promise<ValidationResult> {
  if (opts.cache === false) return validateLab(input);
  // Parsing the YAML with source positions and validating it is most of a small command's time on a
  // large lab; the result depends only on the files read and on this code, so it is kept, by their
  // digest, in .ahl/cache/lab.json. A valid lab only: errors are always worked out afresh.
  const file = join(input.root, '.ahl', 'cache', 'lab.json');
  const key = await inputDigest(input);
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as { key?: string; result?: { lab: Lab } & Omit<ValidationResult, 'lab'> };
    if (cached.key === key && cached.result) return { ...cached.result, lab: deepFreeze(cached.result.lab) };
  } catch {
    // No cache, or an unreadable one: validate.
  }
  const result = validateLab(input);
  if (result.lab) await writeJsonAtomic(file, { key, result }).catch(() => undefined);
  return result;
}

/** The digest of a lab's input files and of the code that validates them (this module's file). */
async function inputDigest(input: LabInput): Promise<string> {
  const h = createHash('sha256');
  try {
    const self = await stat(fileURLToPath(import.meta.url));
    h.update(`${self.size}:${self.mtimeMs}\0`);
  } catch {
    h.update(`${Math.random()}`);
  }
  h.update(input.root);
  for (const f of [...input.files, ...(input.composeFiles ?? []), ...(input.templateFiles ?? [])]) h.update(`\0${f.path}\0${f.text}`);
  h.update(`\0${JSON.stringify(input.stacks)}`);
  h.update(`\0${labEnvKey(input.env)}`);
  return h.digest('hex');
}
