import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab, RenderFacts } from '@ahl/core';
import { channelTemplates } from '@ahl/l2-instantiate';
import { LAYERS } from './layers.js';

/*
 * `ahl render`: exactly what each layer would hand its engine, from the repository and its recorded
 * template manifests alone — no API, no secret, no host. What `helm template` is for a chart: a
 * reviewer reads what a change will run before anyone runs it.
 */

export interface RenderedLab {
  /** Path under the output folder → content; sorted. */
  readonly files: Readonly<Record<string, string>>;
  /** Hosts whose template channel names no built version yet: left out of the Terraform module. */
  readonly unresolved: readonly { host: string; template: string }[];
}

/**
 * Renders every layer. Pure. `l2/main.tf.json` (the Terraform module), `l1/seed/HOST/*` (a bare-metal
 * host's NoCloud seed), `l3/…` and `l4/…` (the Ansible inventories and host_vars, workload env left
 * out: it holds secrets and is written only on the host), `l4/stacks/NAME/*` (the stack files as
 * they are copied; `*.j2` are rendered per host by Ansible).
 */
export function renderLab(lab: Lab, facts: RenderFacts): RenderedLab {
  const files: Record<string, string> = {};
  let unresolved: RenderedLab['unresolved'] = [];
  for (const l of LAYERS) {
    const r = l.render(lab, facts);
    for (const [p, text] of Object.entries(r.files)) files[`${l.id.toLowerCase()}/${p}`] = text;
    if (r.unresolved) unresolved = [...unresolved, ...r.unresolved];
  }
  return { files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))), unresolved };
}

/** Reads the facts from the repository: the template records and the files of each stack. */
export async function renderFacts(lab: Lab): Promise<RenderFacts> {
  const stackFiles: Record<string, Record<string, string>> = {};
  for (const stack of Object.values(lab.stacks)) {
    const dir = join(lab.root, stack.dir);
    const entries = await readdir(dir, { withFileTypes: true });
    const names = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
    stackFiles[stack.name] = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), 'utf8')] as const)));
  }
  return { templates: await channelTemplates(lab), stackFiles };
}
