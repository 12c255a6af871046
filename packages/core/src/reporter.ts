/**
 * How library code tells the operator what is happening. Libraries never write to the console;
 * the CLI implements this (human text on stderr, NDJSON events with --json) and tests pass a fake.
 */
export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  /** A step of long work, e.g. per host or per task. */
  progress(event: { step: string; target?: string; status: 'start' | 'ok' | 'changed' | 'failed' | 'skipped'; detail?: string }): void;
}

/** A reporter that keeps everything, for tests and for building reports. */
export class MemoryReporter implements Reporter {
  readonly lines: string[] = [];
  readonly events: Parameters<Reporter['progress']>[0][] = [];
  info(message: string): void {
    this.lines.push(`info: ${message}`);
  }
  warn(message: string): void {
    this.lines.push(`warn: ${message}`);
  }
  progress(event: Parameters<Reporter['progress']>[0]): void {
    this.events.push(event);
  }
}

export const silentReporter: Reporter = { info() {}, warn() {}, progress() {} };
