import { readFile } from 'node:fs/promises';
import { isRequirementRole, labFile, sha256, treeDigest, type Host, type Lab } from '@ahl/core';
import { ANSIBLE_DIR } from './content.js';
import { hostVars, roleFolder } from './inventory.js';
import { requirementsDigest } from './requirements.js';

const contentDigests = new Map<string, Promise<string>>();

/** The digest of a content folder, read once per process. */
function contentDigest(dir: string): Promise<string> {
  if (!contentDigests.has(dir)) contentDigests.set(dir, treeDigest(dir));
  return contentDigests.get(dir)!;
}

const fileDigest = async (p: string) => sha256(await readFile(p).catch(() => Buffer.from('\0missing')));

/**
 * The digest of what `converge system` applies to a host: its rendered variables, the content of
 * the lab files they copy (`files[].source`), of the lab's own roles and task files (read afresh on
 * every call: they are the lab's, and change), of its requirements file and the local sources that
 * names, and the bundled roles. Recorded on the host after a full converge, it lets `ahl up` skip a
 * host nothing was changed for, and `ahl drift` tell "the intent changed since" from "somebody
 * changed the host".
 */
export async function systemDigest(lab: Lab, host: Host): Promise<string> {
  const vars = hostVars(lab, host);
  const sources = await Promise.all((vars.ahl_files as { src?: string }[]).map(async (f) => (f.src === undefined ? null : fileDigest(f.src))));
  const s = host.system!;
  const own = await Promise.all(
    s.roles.map((r) => (r.tasks !== undefined ? fileDigest(labFile(lab, r.tasks)) : isRequirementRole(r.role!) ? null : treeDigest(labFile(lab, roleFolder(r.role!))))),
  );
  const requirements = s.requirements === undefined ? null : await requirementsDigest(labFile(lab, s.requirements));
  return sha256(JSON.stringify([vars, sources, own, requirements, await contentDigest(ANSIBLE_DIR)]));
}
