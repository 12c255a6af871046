import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { labFile, Redactor, sha256, treeDigest, yamlLib, type Host, type Lab } from '@ahl/core';
import { commandLine } from './command.js';
import { ConvergeError } from './errors.js';
import type { PlaybookSpawner } from './runner.js';

/*
 * system.requirements: a requirements.yml of the lab repository, installed with `ansible-galaxy install
 * -r` into the run's private folder before each run, so the lab's roles can use Galaxy roles and
 * collections. Sources on this machine (a role tarball, a collection folder) are read from inside the
 * lab repository only, and must exist: ansible-galaxy would otherwise look a missing file up on Galaxy.
 */

/** A source requirements.yml names, as written, and where it is on this machine when it is local. */
export interface RequirementSource {
  /** Where in the file, e.g. `roles[0].src`. */
  readonly field: string;
  readonly value: string;
  /** The absolute path of a local source (a file or folder); undefined for Galaxy, Git or a URL. */
  readonly local?: string;
}

const LOCAL_RE = /^(\.{1,2}\/|\/|file:\/\/|git\+file:\/\/)/;

/** A local source's path: relative ones are read from the requirements file's folder, as ansible-galaxy does when run there. */
function localPath(value: string, dir: string): string {
  const p = value.replace(/^(git\+)?file:\/\//, '').replace(/,.*$/, '');
  return isAbsolute(p) ? p : join(dir, p);
}

/**
 * The sources a requirements file names (roles' `src`, collections' `name` or `source`), local ones
 * resolved from `file`'s folder. Both of ansible-galaxy's forms: a list of roles, or a mapping with
 * `roles` and `collections`. Pure; a file that is not YAML is an error naming it.
 */
export function requirementSources(text: string, file: string): RequirementSource[] {
  let doc: unknown;
  try {
    doc = yamlLib().parse(text);
  } catch (e) {
    throw new ConvergeError('REQUIREMENTS_FAILED', `${file} is not YAML: ${(e as Error).message.split('\n')[0]}`, 'fix the requirements file (see ansible-galaxy\'s requirements.yml format)');
  }
  const dir = dirname(file);
  const out: RequirementSource[] = [];
  const roles = Array.isArray(doc) ? doc : ((doc as { roles?: unknown } | null)?.roles ?? []);
  const collections = Array.isArray(doc) ? [] : ((doc as { collections?: unknown } | null)?.collections ?? []);
  const add = (field: string, value: unknown, local: boolean) => {
    if (typeof value !== 'string') return;
    out.push({ field, value, ...(local ? { local: localPath(value, dir) } : {}) });
  };
  (Array.isArray(roles) ? roles : []).forEach((r: unknown, i) => {
    if (typeof r === 'string') add(`roles[${i}]`, r, LOCAL_RE.test(r));
    else if (r && typeof r === 'object') {
      const { src, name } = r as { src?: unknown; name?: unknown };
      if (src !== undefined) add(`roles[${i}].src`, src, typeof src === 'string' && LOCAL_RE.test(src));
      else add(`roles[${i}].name`, name, false);
    }
  });
  (Array.isArray(collections) ? collections : []).forEach((c: unknown, i) => {
    if (typeof c === 'string') add(`collections[${i}]`, c, LOCAL_RE.test(c));
    else if (c && typeof c === 'object') {
      const { name, source, type } = c as { name?: unknown; source?: unknown; type?: unknown };
      const localType = type === 'dir' || type === 'file';
      add(`collections[${i}].name`, name, localType || (typeof name === 'string' && LOCAL_RE.test(name)));
      if (typeof source === 'string') add(`collections[${i}].source`, source, LOCAL_RE.test(source));
    }
  });
  return out;
}

/** The digest of a requirements file: its text and the content of every local source it names. */
export async function requirementsDigest(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '\0missing');
  let sources: RequirementSource[] = [];
  try {
    sources = requirementSources(text, file);
  } catch {
    // Not YAML: the text alone; the run says what is wrong with it.
  }
  const locals = await Promise.all(
    sources
      .filter((s) => s.local !== undefined)
      .map(async (s) => {
        const st = await stat(s.local!).catch(() => undefined);
        return st?.isDirectory() ? treeDigest(s.local!) : st?.isFile() ? sha256(await readFile(s.local!)) : '\0missing';
      }),
  );
  return sha256(JSON.stringify([text, locals]));
}

/** The requirements files of these hosts, relative to the lab root as written, each once, sorted. */
export function requirementFiles(hosts: readonly Host[]): string[] {
  return [...new Set(hosts.flatMap((h) => (h.system?.requirements !== undefined ? [h.system.requirements] : [])))].sort();
}

/** The argv of one `ansible-galaxy install -r`. Pure. */
export function ansibleGalaxyArgv(i: { ansibleGalaxy: string; requirements: string }): string[] {
  // A Galaxy or Git source that cannot be reached fails after this many seconds instead of a minute.
  return [i.ansibleGalaxy, 'install', '-r', i.requirements, '--timeout', '30'];
}

/** ansible-galaxy, beside the ansible-playbook that runs the converge. */
export function findAnsibleGalaxy(ansiblePlaybook: string): string {
  const galaxy = join(dirname(ansiblePlaybook), 'ansible-galaxy');
  if (existsSync(galaxy)) return galaxy;
  throw new ConvergeError('ANSIBLE_NOT_FOUND', `ansible-galaxy was not found beside ${ansiblePlaybook}`, 'install ansible-core (it has both), or set AHL_ANSIBLE_PLAYBOOK to an ansible-playbook that has ansible-galaxy beside it');
}

const inside = (dir: string, p: string) => {
  const r = relative(dir, p);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
};

/** Where the installed roles and collections of one run are, for ANSIBLE_ROLES_PATH and ANSIBLE_COLLECTIONS_PATH. */
export interface InstalledRequirements {
  readonly rolesPaths: readonly string[];
  readonly collectionsPaths: readonly string[];
}

/**
 * Installs each requirements file into its own folder under `dir` (`galaxy/0`, `galaxy/1`, … in the
 * order given) with ansible-galaxy run from the file's folder. Refuses, before running anything, a
 * local source that is missing or outside the lab repository (and lab.yaml's localPaths), and after,
 * a role that two files install. A failed install is a ConvergeError naming the command and its output.
 */
export async function installRequirements(
  lab: Lab,
  files: readonly string[],
  dir: string,
  o: { ansibleGalaxy: string; env: Record<string, string>; spawn: PlaybookSpawner; redactor: Redactor },
): Promise<InstalledRequirements> {
  const rolesPaths: string[] = [];
  const collectionsPaths: string[] = [];
  const allowed = await Promise.all([lab.root, ...lab.config.localPaths.map((p) => (p === '~' ? homedir() : p.startsWith('~/') ? join(homedir(), p.slice(2)) : p))].map((d) => realpath(d).catch(() => d)));
  const owner = new Map<string, string>();
  for (const [n, rel] of files.entries()) {
    const file = labFile(lab, rel);
    const text = await readFile(file, 'utf8').catch(() => {
      throw new ConvergeError('REQUIREMENTS_FAILED', `${rel} (system.requirements) cannot be read`, 'check that the file is in the lab repository');
    });
    for (const s of requirementSources(text, file)) {
      if (s.local === undefined) continue;
      const real = await realpath(s.local).catch(() => undefined);
      if (real === undefined)
        throw new ConvergeError('REQUIREMENTS_FAILED', `${rel} ${s.field} names ${JSON.stringify(s.value)}, which does not exist (${s.local})`, 'add the file or folder to the lab repository, or correct the path (relative paths are read from the requirements file\'s folder)');
      if (!allowed.some((d) => inside(d, real)))
        throw new ConvergeError('REQUIREMENTS_FAILED', `${rel} ${s.field} names ${JSON.stringify(s.value)}, which resolves to ${real}, outside the lab repository`, 'keep local sources inside the lab repository (or a folder lab.yaml lists in localPaths)');
    }
    const roles = join(dir, 'galaxy', String(n), 'roles');
    const collections = join(dir, 'galaxy', String(n), 'collections');
    await mkdir(roles, { recursive: true });
    await mkdir(collections, { recursive: true });
    const argv = ansibleGalaxyArgv({ ansibleGalaxy: o.ansibleGalaxy, requirements: file });
    const lines: string[] = [];
    const r = await o.spawn(argv, {
      env: { ...o.env, ANSIBLE_ROLES_PATH: roles, ANSIBLE_COLLECTIONS_PATH: collections, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
      cwd: dirname(file),
      onLine: (l) => lines.push(l),
    });
    if (r.exitCode !== 0) {
      const masked = argv.map((a) => o.redactor.redact(a));
      throw new ConvergeError(
        'REQUIREMENTS_FAILED',
        `${commandLine(masked)} ${r.signal ? `was killed by ${r.signal}` : `exited with status ${r.exitCode}`}: ${rel} could not be installed`,
        'read the output above: a Galaxy, Git or URL source must be reachable from this machine (or vendor it into the lab repository as a local path), a local one must be a role archive or folder',
        masked,
        r.exitCode,
        o.redactor.redact([...lines, r.stderr].filter(Boolean).join('\n')).slice(-8000),
      );
    }
    for (const name of await readdir(roles)) {
      const other = owner.get(name);
      if (other !== undefined)
        throw new ConvergeError('REQUIREMENTS_FAILED', `both ${other} and ${rel} install a role named ${name}`, 'keep one requirements file for the lab, or give the roles distinct names');
      owner.set(name, rel);
    }
    rolesPaths.push(roles);
    collectionsPaths.push(collections);
  }
  return { rolesPaths, collectionsPaths };
}
