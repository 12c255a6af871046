import { realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { LabConfig, PersonaSpec } from '../model/schema.js';
import type { Diagnostic } from './diagnostics.js';
import type { FieldPath } from './yaml-source.js';

/*
 * Lab text may name files on the operator's machine: a file copied to hosts, a secret read from a
 * file or a sops document, a CA bundle. A pull request writes that text, so a path must not reach
 * out of the repository (`../../.ssh/id_ed25519`, `/etc/shadow`, a link in the tree pointing
 * elsewhere): every such path must resolve, after links, inside the lab repository or inside a folder
 * lab.yaml's `localPaths` names. Two kinds of path are the machine's own business and not checked:
 * lab.local.yaml (never committed) and lab.yaml's `ssh` section (a key and a known_hosts file that
 * ssh uses as such and never sends anywhere). Paths Ansible runs from (the lab's roles, task files and
 * requirements) must also exist.
 */

/** A path a checked file names, with where it is written. */
export interface LocalPathRef {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly field: string;
  /** As written: relative to the lab root, absolute, or `~/…`. */
  readonly path: string;
}

/** The file a secret reference reads, if any (`file:PATH`, `sops:PATH#KEY`). */
function secretFile(ref: string | undefined): string | undefined {
  if (ref?.startsWith('file:')) return ref.slice(5);
  if (ref?.startsWith('sops:')) return ref.slice(5, ref.indexOf('#'));
  return undefined;
}

/** The paths lab.yaml names that ahl reads from this machine, by field. */
export function labPaths(cfg: LabConfig): { path: FieldPath; value: string }[] {
  const out: { path: FieldPath; value: string }[] = [];
  const add = (path: FieldPath, value: string | undefined) => value !== undefined && out.push({ path, value });
  add(['proxmox', 'tokenSecret'], secretFile(cfg.proxmox.tokenSecret));
  add(['proxmox', 'rootPassword'], secretFile(cfg.proxmox.rootPassword));
  add(['proxmox', 'tls', 'ca'], cfg.proxmox.tls.ca);
  if (cfg.state.backend === 'local') add(['state', 'path'], cfg.state.path);
  else for (const k of ['accessKeyId', 'secretAccessKey'] as const) add(['state', k], secretFile(cfg.state[k]));
  for (const k of ['accessKeyId', 'secretAccessKey'] as const) add(['captureStore', k], secretFile(cfg.captureStore?.[k]));
  if (cfg.backup?.target.kind === 'restic') add(['backup', 'target', 'password'], secretFile(cfg.backup.target.password));
  return out;
}

/** The paths a persona names that ahl reads from this machine, by field. */
export function personaPaths(spec: PersonaSpec): { path: FieldPath; value: string }[] {
  const out: { path: FieldPath; value: string }[] = [];
  spec.system?.files.forEach((f, i) => f.source !== undefined && out.push({ path: ['system', 'files', i, 'source'], value: f.source }));
  spec.system?.roles.forEach((r, i) => {
    // A role given by name comes from system.requirements, not from a folder of the lab.
    if (r.role !== undefined && r.role.includes('/')) out.push({ path: ['system', 'roles', i, 'role'], value: r.role });
    if (r.tasks !== undefined) out.push({ path: ['system', 'roles', i, 'tasks'], value: r.tasks });
  });
  if (spec.system?.requirements !== undefined) out.push({ path: ['system', 'requirements'], value: spec.system.requirements });
  spec.workloads.forEach((w, i) => {
    for (const [k, ref] of Object.entries(w.secrets)) {
      const p = secretFile(ref);
      if (p !== undefined) out.push({ path: ['workloads', i, 'secrets', k], value: p });
    }
  });
  return out;
}

/**
 * Fields whose path must exist, and as what: Ansible runs these (a role folder, a task file, a
 * requirements file), so a missing one is an error at its line rather than in the middle of a run.
 * By field, because the loader hands on a reference's field and place only.
 */
const MUST_EXIST: readonly (readonly [RegExp, 'folder' | 'file'])[] = [
  [/^system\.roles\[\d+\]\.role$/, 'folder'],
  [/^system\.roles\[\d+\]\.tasks$/, 'file'],
  [/^system\.requirements$/, 'file'],
];

/** Where a path as written points, before links: `~/` is the home folder, a relative path is under the root. */
export function expandPath(root: string, p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : isAbsolute(p) ? p : join(root, p);
}

/** The real path, following links; for a path that does not exist yet, its nearest existing parent's. */
async function real(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch {
    const parent = dirname(p);
    return parent === p ? p : join(await real(parent), basename(p));
  }
}

const inside = (dir: string, p: string) => {
  const r = relative(dir, p);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
};

/**
 * Checks that every path resolves inside the lab root or a `localPaths` folder; one error for each
 * that does not. Reads only the file system's links, never a file's content.
 */
export async function checkLocalPaths(root: string, refs: readonly LocalPathRef[], allowed: readonly string[]): Promise<Diagnostic[]> {
  if (refs.length === 0) return [];
  const dirs = await Promise.all([root, ...allowed.map((a) => expandPath(root, a))].map(real));
  const out: Diagnostic[] = [];
  for (const ref of refs) {
    const where = await real(expandPath(root, ref.path));
    if (dirs.some((d) => inside(d, where))) {
      const kind = MUST_EXIST.find(([re]) => re.test(ref.field))?.[1];
      const found = kind ? await stat(where).catch(() => undefined) : undefined;
      if (kind && !(kind === 'folder' ? found?.isDirectory() : found?.isFile()))
        out.push({ severity: 'error', file: ref.file, line: ref.line, col: ref.col, field: ref.field, message: `${JSON.stringify(ref.path)} is not a ${kind} in the lab repository` });
      continue;
    }
    out.push({
      severity: 'error',
      file: ref.file,
      line: ref.line,
      col: ref.col,
      field: ref.field,
      message: `${JSON.stringify(ref.path)} resolves to ${where}, outside the lab repository: ahl reads files named in the lab only from inside it (or from a folder lab.yaml lists in localPaths)`,
    });
  }
  return out;
}
