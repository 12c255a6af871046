import type { Lab, ProxmoxClient, Reporter, Secrets } from '@ahl/core';
import type { CaptureStore } from '@ahl/l1-image';
import type { CommandContext } from '../command.js';

/** Progress of a long L1 operation as lines: each step, and the task log in dim. */
export function progressReporter(out: CommandContext['out']): Reporter {
  return out.reporter((e) => {
    if (e.status === 'start' && e.detail && !e.detail.startsWith('waiting')) return out.style('dim', `  ${e.step}: ${e.detail}`);
    if (e.status !== 'start' || e.detail) return `${e.status === 'ok' ? out.style('green', '✓') : e.status === 'failed' ? out.style('red', '✗') : '…'} ${e.step}${e.detail ? `: ${e.detail}` : ''}`;
    return undefined;
  });
}

type RestoreCapture = typeof import('@ahl/l1-image').restoreCapture;

/**
 * `restoreCapture` with the lab's capture store opened only when the capture may be there (its
 * credentials resolved only then), and closed afterwards. Shared by `image restore-capture` and `up`.
 */
export async function restoreCaptureLazily(
  lab: Lab,
  client: ProxmoxClient,
  secrets: () => Promise<Secrets>,
  image: string,
  opts: Omit<NonNullable<Parameters<RestoreCapture>[3]>, 'store'>,
): ReturnType<RestoreCapture> {
  const { openCaptureStore, restoreCapture } = await import('@ahl/l1-image');
  let store: CaptureStore | undefined;
  try {
    return await restoreCapture(lab, client, image, { ...opts, ...(lab.config.captureStore ? { store: async () => (store ??= await openCaptureStore(lab.config, await secrets())) } : {}) });
  } finally {
    store?.close();
  }
}
