import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { Lab } from './model/lab.js';

/**
 * How this machine reaches the lab's hosts, from `ssh` in lab.yaml as lab.local.yaml may amend it:
 * the argv prefix that runs SSH and Ansible inside `netns` (the local lab's guests live in a network
 * namespace), and the known_hosts file to use. Both absent for an ordinary lab.
 */
export function hostsWrap(lab: Lab): ((argv: readonly string[]) => string[]) | undefined {
  const ns = lab.config.ssh.netns;
  return ns ? (argv) => ['ip', 'netns', 'exec', ns, ...argv] : undefined;
}

export function knownHostsFile(lab: Lab): string | undefined {
  const f = lab.config.ssh.knownHostsFile;
  return f ? labFile(lab, f) : undefined;
}

/** A file named in the lab files: `~/…` from the home directory, a relative path from the lab root. */
export function labFile(lab: Lab, p: string): string {
  return p.startsWith('~/') ? join(homedir(), p.slice(2)) : isAbsolute(p) ? p : join(lab.root, p);
}
