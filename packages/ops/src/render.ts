import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab, TemplateManifest } from '@ahl/core';
import { renderNoCloud } from '@ahl/l1-image';
import { channelTemplates, renderTerraform } from '@ahl/l2-instantiate';
import { renderInventory } from '@ahl/l3-system';
import { renderWorkloadInventory, selectWorkloadHosts } from '@ahl/l4-workload';

/*
 * `ahl render`: exactly what each layer would hand its engine, from the repository and its recorded
 * template manifests alone — no API, no secret, no host. What `helm template` is for a chart: a
 * reviewer reads what a change will run before anyone runs it.
 */

/** Where the L4 content writes its per-run report: a folder made for each run, named here by a stand-in. */
export const RUN_DIR_PLACEHOLDER = '<run>';

/** The facts render needs that live on disk: the template each channel points at, each stack's files. */
export interface RenderFacts {
  readonly templates: Readonly<Record<string, TemplateManifest | undefined>>;
  /** Stack name → file name → content (hidden files and `.env` left out, as L4 never copies them). */
  readonly stackFiles: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

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
  const put = (prefix: string, rendered: Readonly<Record<string, string>>) => {
    for (const [p, text] of Object.entries(rendered)) files[`${prefix}/${p}`] = text;
  };
  const module = renderTerraform(lab, facts.templates);
  put('l2', module.files);
  for (const h of lab.hosts.filter((x) => x.runtime === 'baremetal')) put(`l1/seed/${h.name}`, { ...renderNoCloud(lab, h) });
  put('l3', renderInventory(lab));
  const stackFiles = Object.fromEntries(Object.entries(facts.stackFiles).map(([s, fs]) => [s, Object.keys(fs)]));
  put('l4', renderWorkloadInventory(lab, { hosts: selectWorkloadHosts(lab), stackFiles, reportDir: RUN_DIR_PLACEHOLDER }));
  for (const [s, fs] of Object.entries(facts.stackFiles)) put(`l4/stacks/${s}`, fs);
  return { files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1))), unresolved: module.unresolved };
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
