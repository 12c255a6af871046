import type { Alias, Document, LineCounter, Node, Pair, YAMLMap } from 'yaml';
import { yamlLib } from '../yaml.js';
import type { DiagnosticCode } from './diagnostics.js';

/** A lab file as read from disk: its path relative to the lab root (POSIX separators) and its text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
  /**
   * The file's size in bytes, set by a reader that found it larger than YAML_LIMITS.fileBytes and
   * so did not read it (`text` is then empty). Without it, the size of `text` is checked.
   */
  readonly bytes?: number;
}

export type FieldPath = readonly (string | number)[];

export interface Position {
  readonly line: number;
  readonly col: number;
}

export interface YamlProblem {
  readonly position: Position;
  readonly field: FieldPath;
  readonly message: string;
  readonly severity: 'error' | 'warning';
  readonly code: DiagnosticCode;
  /** True when the value could not be built at all (syntax), so schema checks would only add noise. */
  readonly fatal: boolean;
}

/**
 * What one lab or compose file may hold, so that a hostile or broken file ends in a diagnostic
 * rather than in exhausted memory, time or stack. Far above anything a lab needs: a lab of 20,000
 * hosts in one persona file is about 4 MB, nests 4 levels deep and uses no aliases.
 */
export const YAML_LIMITS = {
  /** The largest file read, in bytes. */
  fileBytes: 10 * 1024 * 1024,
  /** The deepest nesting of mappings and lists. */
  depth: 64,
  /** How many values aliases may add to a file when expanded (a "billion laughs" adds billions). */
  aliasedValues: 100_000,
} as const;

/** C0 and C1 controls and DEL; tab, line feed and carriage return are ordinary text. */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
const CONTROL_NAMES: Record<number, string> = { 0: 'NUL', 7: 'BEL', 8: 'BS', 0x1b: 'ESC', 0x7f: 'DEL' };

export interface ParseOptions {
  /** YAML 1.1 merge keys (`<<: *anchor`), as Docker Compose reads them. Lab files do not use them. */
  readonly merge?: boolean;
}

/** A parsed YAML file that can point at the line and column of any field in it. */
export class ParsedYaml {
  readonly doc: Document;
  readonly value: unknown;
  readonly problems: readonly YamlProblem[];
  private readonly lines: LineCounter;
  /** Where each alias points, found once while the file is inspected. */
  private readonly aliasTargets = new Map<Alias, Node>();
  /** Each mapping's keys (and merge keys), built on the first lookup in it, so locating a field never scans a mapping. */
  private readonly keyIndex = new Map<YAMLMap, { pairs: Map<string, Pair>; merges: Pair[] }>();

  constructor(
    readonly file: SourceFile,
    options: ParseOptions = {},
  ) {
    const Y = yamlLib();
    this.lines = new Y.LineCounter();
    const tooLarge = fileTooLarge(file);
    // Keys are checked for uniqueness in inspect(): the library's own check compares each key with
    // every earlier key of its mapping, which is quadratic in the hosts of a persona.
    this.doc = Y.parseDocument(tooLarge ? '' : file.text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: false, merge: options.merge ?? false });
    const problems: YamlProblem[] = [];
    if (tooLarge) problems.push({ position: { line: 1, col: 1 }, field: [], message: tooLarge, severity: 'error', code: 'FILE_TOO_LARGE', fatal: true });
    let overflowed = false;
    for (const e of this.doc.errors) {
      // The library catches its own stack overflow on very deep nesting and reports it, once per
      // stage that overflowed, as this code: one diagnostic says it.
      const deep = e.code === 'RESOURCE_EXHAUSTION';
      if (deep && overflowed) continue;
      overflowed ||= deep;
      problems.push({
        position: this.at(e.pos[0]),
        field: [],
        message: deep ? tooDeep : `invalid YAML: ${firstLine(e.message)}`,
        severity: 'error',
        code: deep ? 'YAML_TOO_DEEP' : 'YAML_SYNTAX',
        fatal: true,
      });
    }
    for (const w of this.doc.warnings) {
      problems.push({ position: this.at(w.pos[0]), field: [], message: `YAML: ${firstLine(w.message)}`, severity: 'warning', code: 'YAML_WARNING', fatal: false });
    }
    if (!problems.some((p) => p.fatal)) problems.push(...this.inspect());
    this.value = problems.some((p) => p.fatal) ? undefined : this.toJS(problems);
    this.problems = problems;
  }

  at(offset: number): Position {
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /**
   * Where a field is written. `target: 'key'` points at the key (for unknown or misnamed keys),
   * `'value'` at its value. A field that is absent points at the nearest present parent key, which
   * is where the operator has to add it. A field that comes from an alias or a merge key points at
   * where it is written, under the anchor. Takes time in the length of the path, not of the file.
   */
  locate(path: FieldPath, target: 'key' | 'value' = 'value'): Position {
    const Y = yamlLib();
    let node: unknown = this.doc.contents;
    let best: Node | undefined;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (Y.isAlias(node)) node = this.aliasTargets.get(node);
      if (Y.isMap(node)) {
        const pair = this.pairOf(node, String(seg));
        if (!pair) break;
        const key = pair.key as Node;
        best = key;
        if (last && target === 'key') break;
        node = pair.value;
        if (node && (node as Node).range && !(Y.isScalar(node) && node.value === null)) best = node as Node;
      } else if (Y.isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!item) break;
        node = item;
        if ((item as Node).range) best = item as Node;
      } else break;
    }
    const offset = best?.range?.[0] ?? (this.doc.contents as Node | null)?.range?.[0] ?? 0;
    return this.at(offset);
  }

  /** The pair for `key` in `map`, or in the mappings it merges (the first that has it, as merging does). */
  private pairOf(map: YAMLMap, key: string, seen = new Set<YAMLMap>()): Pair | undefined {
    const Y = yamlLib();
    let index = this.keyIndex.get(map);
    if (!index) {
      index = { pairs: new Map(), merges: [] };
      for (const pair of map.items) {
        const name = keyName(pair.key);
        if (isMergeKey(pair.key)) index.merges.push(pair);
        else if (name !== undefined && !index.pairs.has(name)) index.pairs.set(name, pair);
      }
      this.keyIndex.set(map, index);
    }
    const own = index.pairs.get(key);
    if (own || index.merges.length === 0 || seen.has(map)) return own;
    seen.add(map);
    for (const merge of index.merges) {
      const value = Y.isAlias(merge.value) ? this.aliasTargets.get(merge.value) : merge.value;
      for (const s of Y.isSeq(value) ? value.items : [value]) {
        const source = Y.isAlias(s) ? this.aliasTargets.get(s) : s;
        const found = Y.isMap(source) ? this.pairOf(source, key, seen) : undefined;
        if (found) return found;
      }
    }
    return undefined;
  }

  /**
   * One pass over the document, in the order aliases are resolved, for what the parser leaves to
   * the reader: duplicate keys, aliases that point nowhere or into themselves, alias expansion
   * (counted in values, like the "billion laughs" it stops), nesting depth, merge keys that merge
   * no mapping, and control characters in keys and values. Linear in the size of the file.
   */
  private inspect(): YamlProblem[] {
    const Y = yamlLib();
    const problems: YamlProblem[] = [];
    const anchors = new Map<string, Node>();
    /** The expanded size, in values, of each anchored node once it has been walked. */
    const sizes = new Map<Node, number>();
    /** Anchored nodes being walked: an alias of one of them is inside its own value. */
    const open = new Set<Node>();
    const path: (string | number)[] = [];
    let aliased = 0;
    let bombReported = false;
    let deepReported = false;
    const report = (node: Node | undefined | null, code: DiagnosticCode, message: string, fatal: boolean) =>
      problems.push({ position: this.at(node?.range?.[0] ?? 0), field: [...path], message, severity: 'error', code, fatal });

    const walk = (node: unknown, depth: number, role: 'key' | 'value'): number => {
      if (Y.isAlias(node)) {
        const target = anchors.get(node.source);
        if (!target) {
          report(node, 'YAML_ALIAS_UNDEFINED', `alias *${node.source} has no anchor &${node.source} before it`, true);
          return 1;
        }
        this.aliasTargets.set(node, target);
        if (open.has(target)) {
          report(node, 'YAML_ALIAS_RECURSIVE', `alias *${node.source} lies inside the value it names, which would make that value infinite`, true);
          return 1;
        }
        const size = sizes.get(target) ?? 1;
        aliased += size;
        if (aliased > YAML_LIMITS.aliasedValues && !bombReported) {
          bombReported = true;
          report(node, 'YAML_ALIAS_LIMIT', `alias *${node.source} takes the values aliases expand to past ${YAML_LIMITS.aliasedValues.toLocaleString('en-US')} (an alias bomb?); a lab file may not expand more than that`, true);
        }
        return size;
      }
      if (!Y.isNode(node)) return 0;
      const anchor = node.anchor;
      if (anchor) anchors.set(anchor, node);
      if (Y.isScalar(node)) {
        const v = node.value;
        if (typeof v === 'string') {
          const m = CONTROL.exec(v);
          if (m) {
            const cp = m[0].charCodeAt(0);
            const name = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}${CONTROL_NAMES[cp] ? ` (${CONTROL_NAMES[cp]})` : ''}`;
            report(node, 'YAML_CONTROL_CHARACTER', `${role === 'key' ? 'the key' : 'the value'} holds the control character ${name}; lab files hold printable text only (tabs and line breaks are fine)`, false);
          }
        }
        if (anchor) sizes.set(node, 1);
        return 1;
      }
      if (!Y.isMap(node) && !Y.isSeq(node)) return 1;
      if (depth >= YAML_LIMITS.depth) {
        if (!deepReported) report(node, 'YAML_TOO_DEEP', tooDeep, true);
        deepReported = true;
        return 1;
      }
      if (anchor) open.add(node);
      let size = 1;
      const keys = Y.isMap(node) ? new Set<string>() : undefined;
      const items = node.items as unknown[];
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        if (Y.isPair(item)) {
          const name = keyName(item.key) ?? '?';
          path.push(keys ? name : i);
          if (keys && Y.isScalar(item.key)) {
            const merge = isMergeKey(item.key);
            if (keys.has(name) && !merge) report(item.key, 'YAML_DUPLICATE_KEY', `duplicate key "${name}": a key may appear only once in a mapping`, false);
            keys.add(name);
            if (merge) this.checkMerge(item.value, anchors, report);
          }
          size += walk(item.key, depth + 1, 'key');
          size += walk(item.value, depth + 1, 'value');
        } else {
          path.push(i);
          size += walk(item, depth + 1, 'value');
        }
        path.pop();
      }
      if (anchor) {
        open.delete(node);
        sizes.set(node, size);
      }
      return size;
    };
    walk(this.doc.contents, 0, 'value');
    return problems;
  }

  /** A merge key's value must be a mapping, an alias of one, or a list of those. */
  private checkMerge(value: unknown, anchors: ReadonlyMap<string, Node>, report: (node: Node | null | undefined, code: DiagnosticCode, message: string, fatal: boolean) => void): void {
    const Y = yamlLib();
    const isMapping = (v: unknown) => Y.isMap(v) || (Y.isAlias(v) && (anchors.get(v.source) === undefined || Y.isMap(anchors.get(v.source))));
    const ok = isMapping(value) || (Y.isSeq(value) && value.items.every(isMapping));
    if (!ok) report(value as Node, 'YAML_MERGE_INVALID', 'a merge key (<<) takes a mapping, an alias of one (*name) or a list of those', true);
  }

  /** The plain value; any failure of the library here becomes a problem rather than an exception. */
  private toJS(problems: YamlProblem[]): unknown {
    try {
      // inspect() has bounded what aliases expand to, so the library's own count is not needed.
      return this.doc.toJS({ maxAliasCount: -1 });
    } catch (e) {
      problems.push({ position: { line: 1, col: 1 }, field: [], message: `invalid YAML: ${firstLine((e as Error).message)}`, severity: 'error', code: 'YAML_SYNTAX', fatal: true });
      return undefined;
    }
  }
}

const tooDeep = `nesting is too deep; a lab file nests at most ${YAML_LIMITS.depth} levels`;

/** A merge key: the library reads a plain `<<` as one (a symbol) only when merging is on. */
function isMergeKey(key: unknown): boolean {
  return yamlLib().isScalar(key) && typeof key.value === 'symbol';
}

/** A mapping key as the plain value names it (the merge key, a symbol, as `<<`). */
function keyName(key: unknown): string | undefined {
  const Y = yamlLib();
  if (!Y.isScalar(key)) return undefined;
  return typeof key.value === 'symbol' ? (key.value.description ?? '') : String(key.value);
}

/** Why a file is not read, when it is larger than a lab file may be. */
export function fileTooLarge(file: SourceFile): string | undefined {
  const bytes = file.bytes ?? Buffer.byteLength(file.text);
  return bytes > YAML_LIMITS.fileBytes ? `the file is ${megabytes(bytes)}; a lab file may be at most ${megabytes(YAML_LIMITS.fileBytes)}` : undefined;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MB`;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
