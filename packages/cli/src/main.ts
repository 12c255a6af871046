import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AhlError, ErrorKind, Redactor } from '@ahl/core';
import pkg from '../package.json' with { type: 'json' };
import { GLOBAL_OPTIONS, type CommandContext, type CommandDef, type OptionDef } from './command.js';
import { COMMANDS } from './commands/index.js';
import { commandHelp, mainHelp } from './help.js';
import { colourEnabled, Output, stderrFormat, type Streams } from './output.js';

export const VERSION: string = pkg.version;

export interface MainEnv {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  streams: Streams;
  redactor?: Redactor;
  commands?: readonly CommandDef[];
  /** Aborted when the operator interrupts (bin.ts wires it to SIGINT). */
  signal?: AbortSignal;
}

const EXIT: Record<ErrorKind, number> = { invalid: 1, usage: 2, environment: 2, internal: 2 };

/** The usage error raised before @ahl/core is loaded (so `--help` and `--version` stay fast). */
class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

function toParseOptions(defs: readonly OptionDef[]): NonNullable<ParseArgsConfig['options']> {
  const o: NonNullable<ParseArgsConfig['options']> = {};
  for (const d of defs) o[d.name] = { type: d.type, ...(d.short ? { short: d.short } : {}) };
  return o;
}

/** Finds the command named by the leading words of argv (longest match wins, for `image build`). */
export function findCommand(commands: readonly CommandDef[], words: readonly string[]): { cmd?: CommandDef; rest: string[] } {
  let best: CommandDef | undefined;
  for (const c of commands) {
    const parts = c.name.split(' ');
    if (parts.every((p, i) => words[i] === p) && (!best || parts.length > best.name.split(' ').length)) best = c;
  }
  return { ...(best ? { cmd: best } : {}), rest: words.slice(best ? best.name.split(' ').length : 0) };
}

/** Runs the CLI and resolves to the exit status. Never calls process.exit; bin.ts does. */
export async function main(m: MainEnv): Promise<number> {
  const started = Date.now();
  const argv = [...m.argv];
  const noColorFlag = argv.includes('--no-color');
  const json = argv.includes('--json');
  const out = new Output(m.streams, colourEnabled(m.env, m.streams.stderr, noColorFlag ? false : undefined), m.redactor, { format: stderrFormat(m.env, json), json });
  const helpOut = new Output(m.streams, colourEnabled(m.env, m.streams.stdout, noColorFlag ? false : undefined), m.redactor);
  const seen: { command?: string } = {};
  const code = await dispatch(m, argv, out, helpOut, json, seen);
  // The last event of a command's stream says it is over and how, so a consumer need not wait for the process.
  if (seen.command) out.event('done', { command: seen.command, exit: code, durationMs: Date.now() - started, msg: `exit ${code}` });
  return code;
}

async function dispatch(m: MainEnv, argv: string[], out: Output, helpOut: Output, json: boolean, seen: { command?: string }): Promise<number> {
  const commands = m.commands ?? COMMANDS;

  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    out.result(json ? JSON.stringify({ version: VERSION }) : VERSION);
    return 0;
  }
  const firstFlag = argv.findIndex((a) => a.startsWith('-'));
  const words = firstFlag === -1 ? argv : argv.slice(0, firstFlag);
  const { cmd } = findCommand(commands, words);
  try {
    if (!cmd) {
      if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
        helpOut.result(mainHelp(commands, VERSION, helpOut));
        return argv.length === 0 ? 2 : 0;
      }
      if (argv.includes('--version')) {
        out.result(VERSION);
        return 0;
      }
      const unknown = words[0] ?? argv[0]!;
      const { didYouMeanCommand } = await import('./suggest.js');
      const guess = didYouMeanCommand(unknown, commands.map((c) => c.name));
      throw new UsageError(`unknown command "${unknown}"${guess ? `; did you mean "${guess}"?` : ''}`);
    }
    seen.command = cmd.name;
    let parsed;
    try {
      parsed = parseArgs({
        args: argv.slice(cmd.name.split(' ').length),
        options: toParseOptions([...GLOBAL_OPTIONS, ...(cmd.options ?? [])]),
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown option'), cmd.name);
    }
    if (parsed.values.help) {
      helpOut.result(commandHelp(cmd, helpOut));
      return 0;
    }
    const max = cmd.positionals?.length ?? 0;
    const min = cmd.positionals?.filter((p) => !p.optional).length ?? 0;
    if (parsed.positionals.length > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`, cmd.name);
    if (parsed.positionals.length < min) throw new UsageError(`missing ${cmd.positionals![parsed.positionals.length]!.name}`, cmd.name);
    const ctx: CommandContext = {
      options: parsed.values as Record<string, string | boolean | undefined>,
      positionals: parsed.positionals,
      global: { json: Boolean(parsed.values.json), ...(typeof parsed.values.dir === 'string' ? { dir: parsed.values.dir } : {}) },
      out,
      cwd: m.cwd,
      env: m.env,
      secrets: async (labRoot) => {
        const { Redactor, Secrets } = await import('@ahl/core');
        const redactor = m.redactor ?? new Redactor();
        out.useRedactor(redactor);
        return new Secrets({ env: m.env, baseDir: labRoot }, redactor);
      },
      signal: m.signal ?? new AbortController().signal,
    };
    const interrupted = (code: number) => {
      if (!ctx.signal.aborted) return code;
      out.warn(`interrupted: \`ahl ${cmd.name}\` stopped at a safe point; what it did is listed above (\`ahl status\` shows the lab as it is now)`);
      return 130;
    };
    if (!cmd.locks?.(ctx.options)) return interrupted(await cmd.run(ctx));
    const [{ acquireLabLock }, { labRoot }] = await Promise.all([import('@ahl/core'), import('./runs/lab-root.js')]);
    const lock = await acquireLabLock(await labRoot(ctx), [cmd.name, ...parsed.positionals].join(' '));
    try {
      return interrupted(await cmd.run(ctx));
    } finally {
      await lock.release();
    }
  } catch (e) {
    return report(e, out, json, cmd?.name, Boolean(m.env.AHL_DEBUG));
  }
}

async function report(e: unknown, out: Output, json: boolean, command: string | undefined, debug: boolean): Promise<number> {
  const { isAhlError, ahlError, FingerprintMismatchError } = await import('@ahl/core');
  // A pinned server that answered with another certificate, met by ahl's own client: the world, not a bug.
  let pin: unknown = e;
  while (pin instanceof Error && !(pin instanceof FingerprintMismatchError)) pin = pin.cause;
  const err: AhlError = isAhlError(e)
    ? e
    : pin instanceof FingerprintMismatchError
      ? ahlError('TLS_PIN_MISMATCH', { endpoint: 'the Proxmox endpoint', expected: pin.expected, actual: pin.actual }, { cause: e })
    : e instanceof UsageError
      ? ahlError('USAGE', { message: e.message, ...(e.command ?? command ? { command: (e.command ?? command)! } : {}) })
      : ahlError('INTERNAL', { message: e instanceof Error ? e.message : String(e) });
  const lines = [`${out.style('red', `${err.code}`)}: ${err.message}`];
  if (err.why) lines.push(`  ${out.style('dim', 'why:')} ${err.why}`);
  lines.push(`  ${out.style('dim', 'fix:')} ${err.hint}`);
  if (err.kind !== 'usage') lines.push(`  ${out.style('dim', err.labChanged ? 'the lab WAS changed: see above' : 'nothing was changed')}`);
  // A stack trace is for bug reports, on request only.
  if (debug && e instanceof Error && e.stack) lines.push(out.style('dim', e.stack));
  out.error(err.toJSON(), lines);
  if (json) out.json({ ok: false, error: err.toJSON() });
  return EXIT[err.kind];
}
