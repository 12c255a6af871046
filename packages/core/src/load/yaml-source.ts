import type { Document, LineCounter, Node } from 'yaml';
import { yamlLib } from '../yaml.js';

/** A lab file as read from disk: its path relative to the lab root (POSIX separators) and its text. */
export interface SourceFile {
  readonly path: string;
  readonly text: string;
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
  /** True when the value could not be built at all (syntax), so schema checks would only add noise. */
  readonly fatal: boolean;
}

/** A parsed YAML file that can point at the line and column of any field in it. */
export class ParsedYaml {
  readonly doc: Document;
  readonly value: unknown;
  readonly problems: readonly YamlProblem[];
  private readonly lines: LineCounter;

  constructor(readonly file: SourceFile) {
    this.lines = new (yamlLib().LineCounter)();
    this.doc = yamlLib().parseDocument(file.text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true, merge: false });
    const problems: YamlProblem[] = [];
    for (const e of this.doc.errors) {
      const offset = e.pos[0];
      if (e.code === 'DUPLICATE_KEY') {
        const field = this.pathOfKeyAt(offset) ?? [];
        const key = field.length ? String(field[field.length - 1]) : '';
        problems.push({ position: this.at(offset), field, message: `duplicate key${key ? ` "${key}"` : ''}: a key may appear only once in a mapping`, severity: 'error', fatal: false });
      } else {
        problems.push({ position: this.at(offset), field: [], message: `invalid YAML: ${firstLine(e.message)}`, severity: 'error', fatal: true });
      }
    }
    for (const w of this.doc.warnings) {
      problems.push({ position: this.at(w.pos[0]), field: [], message: `YAML: ${firstLine(w.message)}`, severity: 'warning', fatal: false });
    }
    this.problems = problems;
    this.value = problems.some((p) => p.fatal) ? undefined : this.doc.toJS({ maxAliasCount: 100 });
  }

  at(offset: number): Position {
    const p = this.lines.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /**
   * Where a field is written. `target: 'key'` points at the key (for unknown or misnamed keys),
   * `'value'` at its value. A field that is absent points at the nearest present parent key, which
   * is where the operator has to add it.
   */
  locate(path: FieldPath, target: 'key' | 'value' = 'value'): Position {
    let node: unknown = this.doc.contents;
    let best: Node | undefined;
    for (let i = 0; i < path.length; i++) {
      const seg = path[i]!;
      const last = i === path.length - 1;
      if (yamlLib().isMap(node)) {
        const pair = node.items.find((p) => yamlLib().isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        const key = pair.key as Node;
        best = key;
        if (last && target === 'key') break;
        node = pair.value;
        if (node && (node as Node).range && !(yamlLib().isScalar(node) && node.value === null)) best = node as Node;
      } else if (yamlLib().isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!item) break;
        node = item;
        if ((item as Node).range) best = item as Node;
      } else break;
    }
    const offset = best?.range?.[0] ?? (this.doc.contents as Node | null)?.range?.[0] ?? 0;
    return this.at(offset);
  }

  /** The field path whose key starts at `offset`, for errors the YAML parser reports by offset. */
  private pathOfKeyAt(offset: number): FieldPath | undefined {
    const walk = (node: unknown, path: (string | number)[]): FieldPath | undefined => {
      if (yamlLib().isMap(node)) {
        for (const pair of node.items) {
          if (!yamlLib().isPair(pair)) continue;
          const key = pair.key as Node | null;
          const name = yamlLib().isScalar(key) ? String(key.value) : '?';
          if (key?.range?.[0] === offset) return [...path, name];
          const found = walk(pair.value, [...path, name]);
          if (found) return found;
        }
      } else if (yamlLib().isSeq(node)) {
        for (let i = 0; i < node.items.length; i++) {
          const found = walk(node.items[i], [...path, i]);
          if (found) return found;
        }
      }
      return undefined;
    };
    return walk(this.doc.contents, []);
  }
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
