import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { ahlError, loadLab, treeDigest, type Diagnostic } from '@ahl/core';
import type { DiffSide } from './diff.js';

/*
 * The lab as it is at a Git ref, or in the working tree as Git sees it (tracked and new files,
 * without ignored ones such as lab.local.yaml), loaded into a private temporary folder.
 */

export const WORKING_TREE = 'working tree';

async function git(cwd: string, args: readonly string[], encoding: 'utf8' | 'buffer' = 'utf8') {
  const r = await execa('git', args, { cwd, reject: false, encoding, stdin: 'ignore' });
  if (r.exitCode !== 0) throw ahlError('GIT_FAILED', { command: `git ${args.join(' ')}`, reason: String(r.stderr).trim().split('\n')[0] || `exit ${r.exitCode}` });
  return r.stdout;
}

/** The repository's top folder and the lab's place in it. */
export async function repoOf(labRoot: string): Promise<{ top: string; rel: string }> {
  const top = String(await git(labRoot, ['rev-parse', '--show-toplevel'])).trim();
  return { top, rel: relative(top, labRoot) };
}

/** A ref's abbreviated commit, for display. */
export async function shortRef(labRoot: string, ref: string): Promise<string> {
  return ref === WORKING_TREE ? ref : String(await git(labRoot, ['rev-parse', '--short', `${ref}^{commit}`])).trim();
}

/** The commit HEAD is at, and whether the lab's files differ from it. */
export async function headCommit(labRoot: string): Promise<{ commit: string; dirty: boolean }> {
  const commit = String(await git(labRoot, ['rev-parse', 'HEAD'])).trim();
  const dirty = String(await git(labRoot, ['status', '--porcelain', '--', '.'])).trim() !== '';
  return { commit, dirty };
}

/** Loads the lab at `ref` (or the working tree). The caller calls cleanup(). */
export async function labAt(labRoot: string, ref: string, env?: NodeJS.ProcessEnv): Promise<Partial<DiffSide> & { errors: readonly Diagnostic[]; stackDigests: ReadonlyMap<string, string>; cleanup(): Promise<void> }> {
  const { top, rel } = await repoOf(labRoot);
  const dir = await mkdtemp(join(tmpdir(), 'ahl-diff-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    if (ref === WORKING_TREE) {
      const files = String(await git(top, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', rel || '.'])).split('\0').filter(Boolean);
      for (const f of new Set(files)) {
        await mkdir(dirname(join(dir, f)), { recursive: true });
        await cp(join(top, f), join(dir, f)).catch(() => undefined); // deleted in the working tree
      }
    } else {
      const tar = await git(top, ['archive', '--format=tar', ref, '--', rel || '.'], 'buffer');
      await execa('tar', ['-x', '-C', dir], { input: tar as Uint8Array });
    }
    const root = join(dir, rel);
    const loaded = await loadLab(root, { cache: false, ...(env ? { env } : {}) });
    const stackDigests = new Map<string, string>();
    if (loaded.lab) for (const [name, s] of Object.entries(loaded.lab.stacks)) stackDigests.set(name, await treeDigest(join(root, s.dir)));
    return { ...(loaded.lab ? { lab: loaded.lab } : {}), errors: loaded.errors, stackDigests, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
