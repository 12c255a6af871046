import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConvergeError } from './errors.js';

/**
 * How ansible-playbook runs the tasks. `mitogen_linear` (the mitogen package's strategy) keeps one
 * Python interpreter per host for the whole run instead of starting one for every task: a no-op
 * converge of one guest went from 85 s to 27 s here (bench/converge). It is used whenever
 * ansible-playbook's own Python has it; `AHL_ANSIBLE_STRATEGY=linear` turns it off.
 */
export type AnsibleStrategy = { readonly name: 'linear' } | { readonly name: 'mitogen_linear'; readonly pluginDir: string };

/** The strategy plugin folder of the mitogen package installed beside this ansible-playbook, if any. */
export function mitogenPluginDir(ansiblePlaybook: string): string | undefined {
  let bin: string;
  try {
    bin = dirname(realpathSync(ansiblePlaybook));
  } catch {
    return undefined;
  }
  // A virtualenv or a --user install: PREFIX/bin next to PREFIX/lib/pythonX.Y/site-packages;
  // a distribution's: /usr/bin next to /usr/lib/python3/dist-packages.
  const lib = join(dirname(bin), 'lib');
  const pythons = existsSync(lib) ? readdirSync(lib).filter((d) => /^python3(\.\d+)?$/.test(d)).sort().reverse() : [];
  for (const py of pythons)
    for (const packages of ['site-packages', 'dist-packages']) {
      const dir = join(lib, py, packages, 'ansible_mitogen', 'plugins', 'strategy');
      if (existsSync(join(dir, 'mitogen_linear.py'))) return dir;
    }
  return undefined;
}

/**
 * The strategy to run with, from `AHL_ANSIBLE_STRATEGY` (`auto`, the default: mitogen when it is
 * installed beside ansible-playbook; `linear`: Ansible's own; `mitogen`: mitogen or an error).
 */
export function chooseStrategy(ansiblePlaybook: string, env: Readonly<Record<string, string | undefined>>): AnsibleStrategy {
  const wanted = env.AHL_ANSIBLE_STRATEGY || 'auto';
  if (!['auto', 'linear', 'mitogen'].includes(wanted))
    throw new ConvergeError('ANSIBLE_NOT_FOUND', `AHL_ANSIBLE_STRATEGY is "${wanted}"`, 'set it to auto, linear or mitogen, or unset it');
  if (wanted === 'linear') return { name: 'linear' };
  const pluginDir = mitogenPluginDir(ansiblePlaybook);
  if (pluginDir) return { name: 'mitogen_linear', pluginDir };
  if (wanted === 'mitogen')
    throw new ConvergeError(
      'ANSIBLE_NOT_FOUND',
      `AHL_ANSIBLE_STRATEGY is mitogen, but no mitogen package was found beside ${ansiblePlaybook}`,
      'install mitogen into the Python that runs ansible-playbook (scripts/bootstrap does), or unset AHL_ANSIBLE_STRATEGY',
    );
  return { name: 'linear' };
}

/** The name of the SSH wrapper {@link acceptNewSshWrapper} is written as, in the run's private folder. */
export const SSH_WRAPPER = 'ssh-accept-new';

/**
 * A `sh` wrapper around ssh for mitogen runs under the `accept-new` host key policy. mitogen puts
 * `-o "StrictHostKeyChecking yes"` before the lab's own SSH options, and ssh keeps the first value
 * it is given, so a host never seen before would be refused; the wrapper turns that one argument into
 * `accept-new` (trust a host on first contact, refuse a changed key), as Ansible's own SSH connection
 * does with the lab's options. Every other argument passes unchanged. Pure: static text.
 */
export function acceptNewSshWrapper(): string {
  return [
    '#!/bin/sh',
    '# Written by ahl for one ansible-playbook run: mitogen asks for StrictHostKeyChecking yes, the',
    "# lab's policy is accept-new. Every other argument is passed to ssh unchanged.",
    'for arg do',
    '  shift',
    '  if [ "$arg" = "StrictHostKeyChecking yes" ]; then arg="StrictHostKeyChecking accept-new"; fi',
    '  set -- "$@" "$arg"',
    'done',
    'exec ssh "$@"',
    '',
  ].join('\n');
}
