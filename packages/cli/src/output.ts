import type { Redactor } from '@ahl/core';

// The decision to colour is made once in colourEnabled; util.styleText would make it again from
// process.stdout, which is wrong for stderr and for tests.
const STYLES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof STYLES;

/** Whether to colour a stream: NO_COLOR and --no-color win, FORCE_COLOR forces, else only a TTY. */
export function colourEnabled(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }, flag?: boolean): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export interface Streams {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

/**
 * All the CLI prints goes through here: human text to stderr, machine JSON to stdout, every string
 * masked by the redactor first. Library code never prints.
 */
export class Output {
  constructor(
    private readonly streams: Streams,
    readonly colour: boolean,
    private redactor?: Redactor,
  ) {}

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

  /** A line for a person, on stderr. */
  line(text = ''): void {
    this.streams.stderr.write(`${this.mask(text)}\n`);
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
