/**
 * The failures of running ansible-playbook itself (as opposed to a host failing, which is a result).
 * Each names the command, its exit status and keeps its output, with secrets already masked.
 * REQUIREMENTS_FAILED: system.requirements could not be installed; no host was touched.
 */
export type ConvergeErrorCode = 'ANSIBLE_NOT_FOUND' | 'ANSIBLE_FAILED' | 'REQUIREMENTS_FAILED';

export class ConvergeError extends Error {
  override readonly name = 'ConvergeError';
  constructor(
    readonly code: ConvergeErrorCode,
    message: string,
    readonly hint: string,
    readonly command: readonly string[] = [],
    readonly exitCode: number | undefined = undefined,
    readonly output: string = '',
  ) {
    super(message);
  }

  /** A plain, JSON-safe view for `--json` output. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      command: this.command,
      ...(this.exitCode === undefined ? {} : { exitCode: this.exitCode }),
      output: this.output,
      labChanged: this.code === 'ANSIBLE_FAILED',
    };
  }
}

export function isConvergeError(e: unknown): e is ConvergeError {
  return e instanceof ConvergeError;
}
