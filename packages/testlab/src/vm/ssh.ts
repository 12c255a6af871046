import { execa } from 'execa';

export interface SshTarget {
  readonly host: string;
  readonly user: string;
  readonly key: string;
  /** argv prefix that runs a command inside the lab's namespace. */
  readonly inNamespace: (argv: readonly string[]) => string[];
}

/** ssh argv for a lab guest: key only, no agent, no prompts; host keys are new on every boot of a test guest. */
export function sshArgv(t: SshTarget, command: string, connectTimeout = 5): string[] {
  return t.inNamespace([
    'ssh',
    '-i', t.key,
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR',
    '-o', `ConnectTimeout=${connectTimeout}`,
    `${t.user}@${t.host}`,
    command,
  ]);
}

export async function ssh(t: SshTarget, command: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const argv = sshArgv(t, command);
  const r = await execa(argv[0]!, argv.slice(1), { reject: false });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Polls until `ssh true` succeeds or the deadline passes; on timeout the error carries `diagnose()`'s text (the serial log). */
export async function waitForSsh(t: SshTarget, deadlineMs: number, diagnose: () => string): Promise<number> {
  const start = Date.now();
  let last = '';
  while (Date.now() - start < deadlineMs) {
    const r = await ssh(t, 'true');
    if (r.exitCode === 0) return Date.now() - start;
    last = r.stderr.trim();
    await new Promise((res) => setTimeout(res, 2000));
  }
  throw new Error(`no SSH to ${t.user}@${t.host} within ${Math.round(deadlineMs / 1000)} s (last: ${last})\n--- serial log ---\n${diagnose()}`);
}
