import { catalogue, EXIT_STATUS, type ErrorCode, type ErrorKind } from './errors.js';

/*
 * docs/errors.md, rendered from the catalogue: the page the operator reaches from a code. A test
 * fails when the committed page differs from what this renders; `pnpm --filter @ahl/core errors:doc`
 * writes it again.
 */

export const ERRORS_DOC = 'docs/errors.md';

type Texts = { kind: ErrorKind; title: string; message: (a: unknown) => string; why?: (a: unknown) => string; hint: (a: unknown) => string };

const KINDS: readonly { kind: ErrorKind; meaning: string }[] = [
  { kind: 'invalid', meaning: 'the lab\'s intent, or the world it was checked against, is wrong: fix the input' },
  { kind: 'usage', meaning: 'the command line is wrong' },
  { kind: 'environment', meaning: 'ahl could not run: a tool, file or endpoint it needs is missing or unreachable' },
  { kind: 'internal', meaning: 'a bug in ahl' },
];

/**
 * Arguments for the texts whose wording depends on them beyond a name, so the page shows the common
 * case; every other argument is shown as `{name}`.
 */
const EXAMPLES: Partial<Record<ErrorCode, Record<string, unknown>>> = {
  SECRET_MISSING: { ref: 'env:{NAME}', field: '{field}' },
  NODE_SHELL_FAILED: { node: '{node}', where: '{host}', step: '{step}', reason: '{reason}' },
};

/** Arguments that print as `{name}`, whatever the text asks of them. */
function placeholders(code: ErrorCode): Record<string, unknown> {
  const example = EXAMPLES[code] ?? {};
  return new Proxy(example, { get: (t, name) => (typeof name === 'string' ? (name in t ? t[name] : `{${name}}`) : undefined) });
}

/** A table cell or a line: one line, pipes escaped. */
const cell = (s: string) => s.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');

/** docs/errors.md for the catalogue as it is. Pure and deterministic: codes in alphabetical order. */
export function renderErrorsDoc(): string {
  const entries = (Object.entries(catalogue) as [ErrorCode, Texts][]).sort(([a], [b]) => (a < b ? -1 : 1));
  const out = [
    '# Error codes',
    '',
    '<!-- Generated from packages/core/src/errors.ts by `pnpm --filter @ahl/core errors:doc`. Do not edit by hand. -->',
    '',
    'Every error ahl raises on purpose has a permanent code. ahl prints it with what happened, why and what to do',
    '(`CODE: message`, then `why:` and `fix:`), says whether the lab was changed, and ends with the exit status of the',
    'error\'s kind. With `--json` the same error is the `error` object on stdout: `code`, `kind`, `title`, `message`,',
    '`why`, `hint`, `labChanged`. Codes never change meaning; a new failure gets a new code.',
    '',
    '| Kind | Exit status | Meaning |',
    '|---|---|---|',
    ...KINDS.map((k) => `| ${k.kind} | ${EXIT_STATUS[k.kind]} | ${k.meaning} |`),
    '',
    'Texts in `{braces}` are filled in from the failure at hand.',
    '',
    '| Code | Title | Kind | Exit status |',
    '|---|---|---|---|',
    ...entries.map(([code, e]) => `| [\`${code}\`](#${code.toLowerCase()}) | ${cell(e.title)} | ${e.kind} | ${EXIT_STATUS[e.kind]} |`),
  ];
  for (const [code, e] of entries) {
    const args = placeholders(code);
    out.push('', `## ${code}`, '', `**${cell(e.title)}** (${e.kind}, exit status ${EXIT_STATUS[e.kind]})`, '', `- Message: ${cell(e.message(args))}`);
    if (e.why) out.push(`- Why: ${cell(e.why(args))}`);
    out.push(`- Fix: ${cell(e.hint(args))}`);
  }
  return `${out.join('\n')}\n`;
}
