import type { Redactor, Reporter } from '@ahl/core';

// The decision to colour is made once in colourEnabled; util.styleText would make it again from
// process.stdout, which is wrong for stderr and for tests.
const STYLES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof STYLES;

/** Whether to colour a stream: NO_COLOR and --no-color win, FORCE_COLOR forces, CI never, else only a TTY. */
export function colourEnabled(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }, flag?: boolean): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  // A CI job's log is read back later, often by a tool; its pseudo-terminal does not make it a person.
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0') return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export interface Streams {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export type Level = 'info' | 'warn' | 'error';
export type ProgressEvent = Parameters<Reporter['progress']>[0];

/**
 * How stderr is written: `text` for a person, `events` for a machine: one JSON object per line
 * (NDJSON), each with `ts`, `type` (`log`, `progress`, `error`, `done`) and `msg`, the line a
 * person would have read, so a consumer can show it as it is.
 */
export type StderrFormat = 'text' | 'events';

/** `--json` turns stderr into events; AHL_LOG_FORMAT=json|text overrides either way. */
export function stderrFormat(env: NodeJS.ProcessEnv, json: boolean): StderrFormat {
  if (env.AHL_LOG_FORMAT === 'json') return 'events';
  if (env.AHL_LOG_FORMAT === 'text') return 'text';
  return json ? 'events' : 'text';
}

/**
 * All the CLI prints goes through here: human text (or NDJSON events) to stderr, machine JSON to
 * stdout, every string masked by the redactor first. Library code never prints.
 */
export class Output {
  readonly colour: boolean;
  readonly format: StderrFormat;
  /** --json: the command's result goes to stdout as JSON. */
  private readonly jsonResult: boolean;
  constructor(
    private readonly streams: Streams,
    colour: boolean,
    private redactor?: Redactor,
    opts: { format?: StderrFormat; json?: boolean } = {},
  ) {
    this.format = opts.format ?? 'text';
    this.jsonResult = opts.json ?? false;
    // An event's msg is plain text: colour codes have no place in JSON.
    this.colour = this.format === 'text' && colour;
  }

  /** Masks, from now on, every secret the redactor knows or learns. */
  useRedactor(redactor: Redactor): void {
    this.redactor = redactor;
  }

  style(s: Style, text: string): string {
    return this.colour ? `\u001b[${STYLES[s][0]}m${text}\u001b[${STYLES[s][1]}m` : text;
  }

  private mask(text: string): string {
    return this.redactor ? this.redactor.redact(text) : text;
  }

  /** One event on stderr (events format only): masked, stamped, one line. */
  event(type: 'log' | 'progress' | 'error' | 'done', fields: Record<string, unknown>): void {
    if (this.format !== 'events') return;
    const e = { ts: new Date().toISOString(), type, ...fields };
    this.streams.stderr.write(`${JSON.stringify(this.redactor ? this.redactor.redactDeep(e) : e)}\n`);
  }

  /** A line for a person, on stderr (a `log` event in the events format). */
  line(text = '', level: Level = 'info'): void {
    if (this.format === 'events') this.event('log', { level, msg: text });
    else this.streams.stderr.write(`${this.mask(text)}\n`);
  }

  /** A failure: its lines for a person, or one `error` event carrying `fields` (the error's JSON). */
  error(fields: Record<string, unknown>, lines: readonly string[]): void {
    if (this.format === 'events') this.event('error', { ...fields, msg: lines.join('\n') });
    else for (const l of lines) this.line(l);
  }

  /**
   * A report that is the command's result, rendered for a person (a status table), on stderr;
   * left out with --json, which puts the result itself on stdout.
   */
  report(text: string): void {
    if (this.format === 'text' || !this.jsonResult) this.line(text);
  }

  /** A warning for a person: yellow text, or a `log` event at level warn. Bound: it may be handed on as a function. */
  readonly warn = (text: string): void => {
    this.line(this.style('yellow', text), 'warn');
  };

  /**
   * A step of long work: `text` is how a person sees it (nothing when undefined: a person is not
   * shown every step); the events format always carries the step, with `msg` when there is text.
   */
  progress(e: ProgressEvent, text: string | undefined): void {
    if (this.format === 'events') this.event('progress', { ...e, ...(text !== undefined ? { msg: text } : {}) });
    else if (text !== undefined) this.line(text);
  }

  /** A Reporter for library code, showing its progress events as `render` says. */
  reporter(render: (e: ProgressEvent) => string | undefined = () => undefined, info: (m: string) => string = (m) => m): Reporter {
    return { info: (m) => this.line(info(m)), warn: (m) => this.warn(m), progress: (e) => this.progress(e, render(e)) };
  }

  /** Text that is the command's result for a person (help, a schema), on stdout. */
  result(text: string): void {
    this.streams.stdout.write(this.mask(text.endsWith('\n') ? text : `${text}\n`));
  }

  /** The command's result for a machine, on stdout. */
  json(value: unknown): void {
    const masked = this.redactor ? this.redactor.redactDeep(value) : value;
    this.streams.stdout.write(`${JSON.stringify(masked, null, 2)}\n`);
  }
}
