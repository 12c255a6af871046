import type { Reporter } from '@ahl/core';
import type { CommandContext } from '../command.js';

/** Progress of a long L1 operation as lines: each step, and the task log in dim. */
export function progressReporter(out: CommandContext['out']): Reporter {
  return out.reporter((e) => {
    if (e.status === 'start' && e.detail && !e.detail.startsWith('waiting')) return out.style('dim', `  ${e.step}: ${e.detail}`);
    if (e.status !== 'start' || e.detail) return `${e.status === 'ok' ? out.style('green', '✓') : e.status === 'failed' ? out.style('red', '✗') : '…'} ${e.step}${e.detail ? `: ${e.detail}` : ''}`;
    return undefined;
  });
}
