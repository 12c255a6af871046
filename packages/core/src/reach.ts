import { existsSync } from 'node:fs';
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

/** The user L3 and L4 log in as: `ssh.user`, else the user cloud-init creates. */
export function sshUser(lab: Lab): string {
  return lab.config.ssh.user ?? lab.config.cloudInit.user;
}

export function knownHostsFile(lab: Lab): string | undefined {
  const f = lab.config.ssh.knownHostsFile;
  return f ? labFile(lab, f) : undefined;
}

/** A file named in the lab files: `~/…` from the home directory, a relative path from the lab root. */
export function labFile(lab: Lab, p: string): string {
  return p.startsWith('~/') ? join(homedir(), p.slice(2)) : isAbsolute(p) ? p : join(lab.root, p);
}

/**
 * Forgets the SSH host keys known for these hosts' addresses (and names), in the known_hosts file ahl
 * connects with (lab.yaml's, else the operator's own). A VM that ahl just created, replaced or destroyed
 * is a new machine with a new key: without this, accept-new would refuse the rebuilt host as a changed
 * key. Returns the addresses that had a key. A missing file or ssh-keygen is nothing to forget.
 */
export async function forgetHostKeys(lab: Lab, hosts: readonly { name: string; ip?: { address: string } | undefined }[]): Promise<string[]> {
  const file = knownHostsFile(lab) ?? join(homedir(), '.ssh', 'known_hosts');
  if (!existsSync(file) || hosts.length === 0) return [];
  const { execa } = await import('execa');
  const forgotten: string[] = [];
  for (const addr of [...new Set(hosts.flatMap((h) => [h.ip?.address, h.name]).filter((a): a is string => Boolean(a)))]) {
    // Exit 0 both when a key was removed and when there was none; "updated" on stdout says which.
    const r = await execa('ssh-keygen', ['-R', addr, '-f', file], { reject: false, stdin: 'ignore' });
    if (r.exitCode === 0 && /updated/.test(r.stdout)) forgotten.push(addr);
  }
  return forgotten;
}
