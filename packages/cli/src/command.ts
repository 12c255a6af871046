import type { Secrets } from '@ahl/core';
import type { Output } from './output.js';

/** The CLI is data: each command is a definition the parser, the help and the tests read. */
export interface OptionDef {
  readonly name: string;
  readonly type: 'boolean' | 'string';
  readonly short?: string;
  readonly value?: string;
  readonly description: string;
}

export interface PositionalDef {
  readonly name: string;
  readonly description: string;
  readonly optional?: boolean;
}

export interface Example {
  readonly command: string;
  readonly description: string;
}

export interface GlobalOptions {
  readonly json: boolean;
  readonly dir?: string;
}

export interface CommandContext {
  readonly options: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
  readonly global: GlobalOptions;
  readonly out: Output;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /**
   * The run's secret resolver for a lab root. Every value it resolves is masked from then on in all
   * the CLI prints, human or JSON.
   */
  readonly secrets: (labRoot: string) => Promise<Secrets>;
  /**
   * Aborted at the first Ctrl-C. Long commands check it at their safe points (between hosts,
   * between steps) and stop there; the run then exits 130 and says so.
   */
  readonly signal: AbortSignal;
}

export interface CommandDef {
  /** Words after `ahl`, e.g. `validate` or `image build`. */
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly positionals?: readonly PositionalDef[];
  readonly options?: readonly OptionDef[];
  readonly examples: readonly Example[];
  /**
   * Whether this invocation acts on the lab (given its options): such runs hold the lab's lock, so
   * two never change one lab at once. Read-only commands and dry runs leave it out.
   */
  readonly locks?: (options: CommandContext['options']) => boolean;
  /** Resolves to the exit status. */
  readonly run: (ctx: CommandContext) => Promise<number>;
}

export const GLOBAL_OPTIONS: readonly OptionDef[] = [
  { name: 'json', type: 'boolean', description: 'print the result as JSON on stdout, and stderr as NDJSON events (AHL_LOG_FORMAT=text|json overrides)' },
  { name: 'dir', type: 'string', value: 'PATH', description: 'the lab folder (default: the nearest folder upward holding lab.yaml)' },
  { name: 'no-color', type: 'boolean', description: 'no colour (NO_COLOR and FORCE_COLOR are honoured too)' },
  { name: 'help', short: 'h', type: 'boolean', description: 'show help' },
];

/** --layer, as drift and reconcile take it. */
export const LAYER_OPTION: OptionDef = { name: 'layer', type: 'string', value: 'LAYERS', description: 'only these layers, comma-separated: L1, L2, L3, L4 (default: all)' };

export const EXIT_CODES: readonly { code: number; meaning: string }[] = [
  { code: 0, meaning: 'success' },
  { code: 1, meaning: 'the lab is invalid, a check failed or drift was found (nothing was changed)' },
  { code: 2, meaning: 'ahl could not run: wrong usage, a missing file or tool, an unreachable API, a bug' },
  { code: 130, meaning: 'interrupted' },
];
