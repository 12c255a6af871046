import { readFile } from 'node:fs/promises';
import { sha256, treeDigest, type Host, type Lab } from '@ahl/core';
import { ANSIBLE_DIR } from './content.js';
import { hostVars } from './inventory.js';

const contentDigests = new Map<string, Promise<string>>();

/** The digest of a content folder, read once per process. */
function contentDigest(dir: string): Promise<string> {
  if (!contentDigests.has(dir)) contentDigests.set(dir, treeDigest(dir));
  return contentDigests.get(dir)!;
}

/**
 * The digest of what `converge system` applies to a host: its rendered variables, the content of
 * the lab files they copy (`files[].source`) and the bundled roles. Recorded on the host after a full
 * converge, it lets `ahl up` skip a host nothing was changed for, and `ahl drift` tell "the intent
 * changed since" from "somebody changed the host".
 */
export async function systemDigest(lab: Lab, host: Host): Promise<string> {
  const vars = hostVars(lab, host);
  const sources = await Promise.all(
    (vars.ahl_files as { src?: string }[]).map(async (f) => (f.src === undefined ? null : sha256(await readFile(f.src).catch(() => Buffer.from('\0missing'))))),
  );
  return sha256(JSON.stringify([vars, sources, await contentDigest(ANSIBLE_DIR)]));
}
