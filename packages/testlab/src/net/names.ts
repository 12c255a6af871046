import { randomBytes } from 'node:crypto';

/** Every namespace, bridge, tap, process and temp file of a lab carries this prefix and a run id. */
export const PREFIX = 'ahl';

export function newRunId(): string {
  return randomBytes(3).toString('hex');
}

/** Linux interface names are at most 15 bytes. */
export function tapName(runId: string, index: number): string {
  return `${PREFIX}t${runId}${index}`.slice(0, 15);
}

export function namespaceName(runId: string): string {
  return `${PREFIX}-${runId}`;
}
