import type { z } from 'zod';
import type { FieldPath, ParsedYaml, Position } from './yaml-source.js';

export type Severity = 'error' | 'warning';

/**
 * Permanent codes of the problems found in a file's YAML itself, before the lab model is applied
 * (the model's own checks carry no code: their field and message say it). A code never changes
 * meaning once released; `ahl validate --json` shows it beside the message.
 */
export const DIAGNOSTIC_CODES = {
  FILE_TOO_LARGE: 'the file is larger than a lab file may be (10 MB); it was not read',
  YAML_SYNTAX: 'the file is not valid YAML',
  YAML_WARNING: 'the YAML library warns about the file',
  YAML_DUPLICATE_KEY: 'a mapping holds the same key twice',
  YAML_TOO_DEEP: 'mappings and lists nest deeper than a lab file may (64 levels)',
  YAML_ALIAS_UNDEFINED: 'an alias names no anchor written before it',
  YAML_ALIAS_RECURSIVE: 'an alias lies inside the value it names',
  YAML_ALIAS_LIMIT: 'aliases expand to more values than a lab file may (100,000): an alias bomb',
  YAML_MERGE_INVALID: 'a merge key (<<) in a compose file merges something other than mappings',
  YAML_CONTROL_CHARACTER: 'a key or value holds a control character (NUL, ESC, …)',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** One problem in one file, pointing at the exact field. */
export interface Diagnostic {
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Dotted field path, e.g. `hosts.docker-01.ip` or `system.users[0].name`; empty for whole-file problems. */
  readonly field: string;
  readonly message: string;
  /** Present for problems in the YAML itself (see DIAGNOSTIC_CODES). */
  readonly code?: DiagnosticCode;
}

/** `file:line:col field: message`, the form editors and terminals make clickable. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col} ${d.field ? `${d.field}: ` : ''}${d.message}`;
}

export function formatField(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function diagnostic(severity: Severity, file: string, pos: Position, path: FieldPath, message: string, code?: DiagnosticCode): Diagnostic {
  return { severity, file, line: pos.line, col: pos.col, field: formatField(path), message, ...(code ? { code } : {}) };
}

/** Sorts by file, then position, then message, so output is stable whatever order checks ran in. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return ds.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col || cmp(a.field, b.field) || cmp(a.message, b.message)));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Edit distance, for "did you mean". */
export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate, when it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = word.toLowerCase();
  let bestPrefix = -1;
  for (const c of candidates) {
    const d = levenshtein(lower, c.toLowerCase());
    // On a tie, the candidate sharing the longer prefix is the likelier typo (nopassword → nopasswd).
    const prefix = commonPrefix(lower, c.toLowerCase());
    if (d < bestDistance || (d === bestDistance && prefix > bestPrefix)) {
      bestPrefix = prefix;
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function describeType(v: unknown): string {
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

const EXPECTED: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false', int: 'an integer' };

/** zod's default texts start like these; a text that does not is one of ours and is kept verbatim. */
const ZOD_DEFAULT_TEXT = /^(Invalid|Too (small|big)|Unrecognized|Expected)/;

function sizeMessage(issue: { origin?: string; minimum?: unknown; maximum?: unknown; inclusive?: boolean; message: string }, small: boolean): string {
  if (!ZOD_DEFAULT_TEXT.test(issue.message)) return issue.message;
  const n = Number(small ? issue.minimum : issue.maximum);
  if (issue.origin === 'array') return small ? `must hold at least ${n} item${n === 1 ? '' : 's'}` : `must hold at most ${n} item${n === 1 ? '' : 's'}`;
  if (issue.origin === 'string') return small ? (n === 1 ? 'must not be empty' : `must be at least ${n} characters`) : `must be at most ${n} characters`;
  const cmp = small ? (issue.inclusive === false ? 'greater than' : 'at least') : issue.inclusive === false ? 'less than' : 'at most';
  return `must be ${cmp} ${n}`;
}

/** Turns zod issues for one file into diagnostics pointing at the offending lines. */
export function issuesToDiagnostics(
  parsed: ParsedYaml,
  raw: unknown,
  issues: readonly z.core.$ZodIssue[],
  knownKeysAt: (path: FieldPath) => readonly string[],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const file = parsed.file.path;
  const push = (path: FieldPath, message: string, target: 'key' | 'value' = 'value') =>
    out.push(diagnostic('error', file, parsed.locate(path, target), path, message));

  for (const issue of issues) {
    const path = issue.path as (string | number)[];
    switch (issue.code) {
      case 'invalid_type': {
        const v = valueAt(raw, path);
        if (v === undefined) push(path, 'is required');
        else if (issue.expected === 'int' && typeof v === 'number') push(path, 'must be a whole number');
        else push(path, `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeType(v)}`);
        break;
      }
      case 'unrecognized_keys': {
        const known = knownKeysAt(path);
        for (const key of issue.keys) {
          const guess = didYouMean(key, known);
          push([...path, key], guess ? `unknown key, did you mean "${guess}"?` : `unknown key${known.length ? ` (expected one of: ${known.join(', ')})` : ''}`, 'key');
        }
        break;
      }
      case 'invalid_value': {
        const v = valueAt(raw, path);
        const options = issue.values.map((x) => JSON.stringify(x)).join(', ');
        const guess = typeof v === 'string' ? didYouMean(v, issue.values.map(String)) : undefined;
        push(path, `must be one of ${options}${guess ? `; did you mean "${guess}"?` : ''}`);
        break;
      }
      case 'invalid_union': {
        const disc = (issue as { discriminator?: string; options?: unknown[] }).discriminator;
        const options = (issue as { options?: unknown[] }).options;
        if (disc && options) {
          const v = valueAt(raw, path);
          const list = options.map((x) => JSON.stringify(x)).join(', ');
          const guess = typeof v === 'string' ? didYouMean(v, options.map(String)) : undefined;
          push(path, v === undefined ? `is required: one of ${list}` : `must be one of ${list}${guess ? `; did you mean "${guess}"?` : ''}`);
        } else push(path, 'does not match any of the allowed forms');
        break;
      }
      case 'invalid_key': {
        const inner = issue.issues[0];
        const text = inner && !ZOD_DEFAULT_TEXT.test(inner.message) ? inner.message : 'is not a valid name';
        push(path, `invalid name: ${text}`, 'key');
        break;
      }
      case 'too_small':
        push(path, sizeMessage(issue, true));
        break;
      case 'too_big':
        push(path, sizeMessage(issue, false));
        break;
      case 'not_multiple_of':
        push(path, `must be a multiple of ${String(issue.divisor)}`);
        break;
      default:
        push(path, ZOD_DEFAULT_TEXT.test(issue.message) ? 'is not valid here' : issue.message);
    }
  }
  return out;
}
