import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { holderGone, type Lab } from '@ahl/core';
import { terraformDir } from './render.js';

/*
 * Where a run that only plans renders its module. `ahl plan` and `ahl drift` take no lab lock, yet
 * they render the module, run `terraform init` and save a plan: in terraformDir they would rewrite
 * the module and replace the saved plan of an `ahl apply --approve` running beside them, which then
 * applies what it never showed. So a run that cannot apply gets a folder of its own, removed when it
 * ends. It is a sibling of terraformDir, so the module (whose local state path is relative to its
 * folder) is the same text; Terraform's own state lock still orders the two runs' state reads.
 */

const PREFIX = 'terraform-plan.';
const OWNER = 'ahl-owner.json';

export interface PlanDir {
  readonly dir: string;
  /** Removes the folder and everything Terraform put in it. */
  dispose(): Promise<void>;
}

/**
 * Makes a fresh folder for a plan-only run beside terraformDir, first removing those left by runs of
 * this machine that no longer run. The dependency lock file of terraformDir, when there is one, is
 * copied in, so `terraform init` picks the provider the lab already uses from the plugin cache.
 */
export async function openPlanDir(lab: Lab): Promise<PlanDir> {
  const shared = terraformDir(lab);
  const parent = dirname(shared);
  await mkdir(parent, { recursive: true });
  await sweepPlanDirs(parent);
  const dir = join(parent, `${PREFIX}${process.pid}.${randomBytes(4).toString('hex')}`);
  await mkdir(dir);
  await writeFile(join(dir, OWNER), `${JSON.stringify({ pid: process.pid, host: hostname() })}\n`);
  await copyFile(join(shared, '.terraform.lock.hcl'), join(dir, '.terraform.lock.hcl')).catch(() => undefined);
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** Whether `dir` is a plan-only folder (never the one `ahl apply` applies from). */
export const isPlanDir = (dir: string) => basename(dir).startsWith(PREFIX);

/** Removes plan folders whose run is gone (killed before it could clean up). */
async function sweepPlanDirs(parent: string): Promise<void> {
  const names = (await readdir(parent).catch(() => [] as string[])).filter((n) => n.startsWith(PREFIX));
  for (const n of names) {
    try {
      const owner = JSON.parse(await readFile(join(parent, n, OWNER), 'utf8')) as { pid: number; host: string };
      if (holderGone(owner)) await rm(join(parent, n), { recursive: true, force: true });
    } catch {
      // Being made right now, or not ours to judge: left alone.
    }
  }
}
