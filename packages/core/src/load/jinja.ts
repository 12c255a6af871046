/*
 * A stack's `*.j2` files are Jinja templates that Ansible renders on the operator's machine, where
 * Jinja is not sandboxed: `lookup('pipe', …)` runs a command there, `''.__class__…` reaches Python.
 * They come from the lab repository, so a pull request writes them. ahl accepts the part of Jinja a
 * config template needs — values, attribute and index access, filters, tests, `if`, `for`, `set`,
 * comments and `raw` — and refuses everything that reaches outside the template's own data: lookups,
 * includes and imports, macros, calls other than known string and dict methods, names and attributes
 * starting with `_`, and the variables that expose other hosts or the controller.
 */

/** One refusal, at a 1-based line and column of the template. */
export interface TemplateProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

const STATEMENTS = new Set(['if', 'elif', 'else', 'endif', 'for', 'endfor', 'set', 'endset', 'filter', 'endfilter']);
/** Names that reach outside the template's data: the controller, other hosts, Jinja's globals. */
const FORBIDDEN_NAMES = new Set(['lookup', 'query', 'q', 'hostvars', 'vars', 'environment', 'self', 'namespace', 'cycler', 'joiner', 'lipsum', 'groups', 'omit', 'playbook_dir', 'ansible_env']);
/** Methods a value may call (str and dict methods with no side effects). */
const METHODS = new Set(['items', 'keys', 'values', 'get', 'upper', 'lower', 'strip', 'lstrip', 'rstrip', 'split', 'startswith', 'endswith', 'replace', 'title', 'capitalize', 'count', 'index', 'join', 'isdigit']);
/** Functions a template may call. */
const FUNCTIONS = new Set(['range', 'dict']);
/** Filters a template may use: Jinja's own and Ansible's that only transform their input. */
const FILTERS = new Set(
  (
    'abs attr batch bool capitalize center combine comment count d default dict2items difference dirname basename e escape ' +
    'first flatten float forceescape format_size groupby hash indent int intersect items2dict join last length list lower ' +
    'map mandatory max min quote random regex_escape regex_replace regex_search reject rejectattr replace reverse round ' +
    'select selectattr slice sort split string striptags sum symmetric_difference ternary title to_json to_nice_json ' +
    'to_nice_yaml to_yaml tojson trim truncate union unique upper urlencode wordcount wordwrap xmlattr zip b64encode b64decode ' +
    'checksum from_json from_yaml product'
  ).split(' '),
);

const TOKEN = /\s+|(?<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?<num>\d+(\.\d+)?)|(?<name>[A-Za-z_][A-Za-z0-9_]*)|(?<op>\*\*|\/\/|==|!=|<=|>=|[-+*/%~<>=|.,:()[\]{}!])|(?<bad>.)/gys;

/** Where offset `i` of `text` is, 1-based. */
function position(text: string, i: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let j = text.indexOf('\n'); j !== -1 && j < i; j = text.indexOf('\n', j + 1)) {
    line++;
    start = j + 1;
  }
  return { line, col: i - start + 1 };
}

/** Checks one expression (the inside of `{{ }}` or of a statement after its keyword). */
function checkExpression(expr: string, at: number, text: string, out: TemplateProblem[]): void {
  const tokens: { kind: string; value: string; at: number }[] = [];
  for (const m of expr.matchAll(TOKEN)) {
    const g = m.groups ?? {};
    const kind = g.str !== undefined ? 'str' : g.num !== undefined ? 'num' : g.name !== undefined ? 'name' : g.op !== undefined ? 'op' : g.bad !== undefined ? 'bad' : 'space';
    if (kind !== 'space') tokens.push({ kind, value: m[0], at: at + m.index });
  }
  const refuse = (t: { at: number }, message: string) => out.push({ ...position(text, t.at), message });
  tokens.forEach((t, i) => {
    const prev = tokens[i - 1]?.value;
    const next = tokens[i + 1]?.value;
    if (t.kind === 'bad') return refuse(t, `"${t.value}" is not part of the Jinja ahl renders`);
    if (t.kind === 'str' && t.value.includes('__')) return refuse(t, 'a string with "__" may name a Python internal: not allowed in a stack template');
    if (t.kind !== 'name') return;
    if (t.value.startsWith('_')) return refuse(t, `"${t.value}": names starting with "_" reach Python internals; not allowed in a stack template`);
    if (prev === '|') {
      if (!FILTERS.has(t.value)) refuse(t, `the filter "${t.value}" is not one ahl allows in a stack template`);
      return;
    }
    if (prev === 'is' || (prev === 'not' && tokens[i - 2]?.value === 'is')) return;
    if (prev === '.') {
      if (next === '(' && !METHODS.has(t.value)) refuse(t, `the method "${t.value}()" is not one ahl allows in a stack template`);
      return;
    }
    if (FORBIDDEN_NAMES.has(t.value)) return refuse(t, `"${t.value}" reaches outside the template's data (the controller or other hosts); not allowed in a stack template`);
    if (next === '(' && !FUNCTIONS.has(t.value)) refuse(t, `calling "${t.value}()" is not allowed in a stack template`);
  });
}

/**
 * The problems of one stack template; none means ahl renders it. Pure. Positions point at the
 * refused name or tag.
 */
export function checkStackTemplate(text: string): TemplateProblem[] {
  const out: TemplateProblem[] = [];
  const TAG = /\{\{(?<expr>.*?)\}\}|\{%-?\s*(?<stmt>[A-Za-z_]*)(?<rest>.*?)-?%\}|\{#.*?#\}/gs;
  let rawUntil = -1;
  for (const m of text.matchAll(TAG)) {
    if (m.index < rawUntil) continue;
    const g = m.groups ?? {};
    if (g.expr !== undefined) {
      checkExpression(g.expr, m.index + 2, text, out);
      continue;
    }
    if (g.stmt === undefined) continue;
    if (g.stmt === 'raw') {
      const end = /\{%-?\s*endraw\s*-?%\}/g;
      end.lastIndex = m.index + m[0].length;
      const e = end.exec(text);
      rawUntil = e ? e.index + e[0].length : text.length;
      continue;
    }
    if (!STATEMENTS.has(g.stmt)) {
      out.push({ ...position(text, m.index), message: `{% ${g.stmt} %} is not allowed in a stack template (only if, for, set, filter and raw)` });
      continue;
    }
    const restAt = m.index + m[0].indexOf(g.stmt) + g.stmt.length;
    checkExpression(g.rest ?? '', restAt, text, out);
  }
  return out;
}
