import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { ahlError } from './errors.js';

/**
 * A reference to a secret held outside the lab files: `env:NAME` (an environment variable),
 * `file:PATH` (a file's content, relative paths from the lab root, `~` for the home directory) or
 * `sops:PATH#KEY` (a value in a SOPS-encrypted YAML or JSON file, PATH as for `file:`, KEY a dotted
 * path into the decrypted document whose digit segments index arrays, e.g.
 * `sops:secrets/lab.sops.yaml#proxmox.token_secret`).
 */
export type SecretRef = `env:${string}` | `file:${string}` | `sops:${string}#${string}`;

export const SECRET_REF_RE = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\S.*|sops:[^\s#][^#]*#[^.\s#]+(\.[^.\s#]+)*)$/;

export function isSecretRef(s: string): s is SecretRef {
  return SECRET_REF_RE.test(s);
}

/**
 * Masks every secret it has been given in any string or value. One redactor lives for the whole
 * process: everything ahl prints or writes passes through it.
 *
 * A secret is masked in every form it travels in: as written; escaped inside a JSON string by any
 * encoder (`\"`, `\\`, `\u00e9`, Go's `\u003c`, …), also a JSON string inside another;
 * percent-encoded by any URL encoder (`%20` or `+` for a space, either hex case); in hex (either
 * case); and in base64 (standard or URL-safe, padded or not) wherever it starts inside a longer
 * encoded value, e.g. `Basic base64(user:secret)`. A secret of any length is masked as written; a hex
 * or base64 form shorter than 8 characters is not masked, since text that has nothing to do with
 * the secret holds so few characters of those alphabets by chance.
 */
export class Redactor {
  static readonly MASK = '********';
  /** Each secret's regular expression sources (precomputed by `add`), longest match first. */
  private readonly secrets = new Map<string, readonly Alternative[]>();
  private pattern: RegExp | undefined;

  /** Registers a resolved secret with every form it may travel in. */
  add(secret: string): void {
    if (secret.length === 0 || this.secrets.has(secret)) return;
    this.secrets.set(secret, secretAlternatives(secret));
    this.pattern = undefined;
  }

  /** How many secrets it masks. */
  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    if (this.secrets.size === 0) return text;
    if (!this.pattern) {
      // Longest first, so a secret that contains another is masked whole.
      const all = [...this.secrets.values()].flat().sort((a, b) => b.minLength - a.minLength);
      this.pattern = new RegExp([...new Set(all.map((a) => a.source))].join('|'), 'g');
    }
    return text.replace(this.pattern, Redactor.MASK);
  }

  /** Masks secrets in every string inside a JSON-like value. */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }
}

/** Hex and base64 forms shorter than this are not masked (see Redactor). */
const MIN_ENCODED_LENGTH = 8;

/** One alternative of the redactor's pattern: a regular expression source and its shortest match. */
interface Alternative {
  readonly source: string;
  readonly minLength: number;
}

/** Characters no JSON or URL encoder escapes: they only ever appear as themselves. */
const PLAIN = /^[A-Za-z0-9_.-]$/;

/** The alternatives that match `secret` in each of its forms (see Redactor). */
function secretAlternatives(secret: string): Alternative[] {
  const out: Alternative[] = [{ source: textPattern(secret), minLength: secret.length }];
  const literal = (text: string) => {
    if (text.length >= MIN_ENCODED_LENGTH) out.push({ source: escapeRegExp(text), minLength: text.length });
  };
  const bytes = Buffer.from(secret, 'utf8');
  const hex = bytes.toString('hex');
  literal(hex);
  literal(hex.toUpperCase());
  for (const form of base64Forms(bytes)) {
    literal(form);
    literal(form.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/**
 * A regular expression source matching `secret` as written, JSON-escaped (once or twice) or
 * percent-encoded: each character as itself, as its UTF-8 bytes in `%XX` (a space also as `+`), as
 * a JSON escape (`\"`, `\n`, `\u00e9`: its UTF-16 units), or as such an escape escaped again.
 */
function textPattern(secret: string): string {
  let source = '';
  for (const ch of secret) {
    if (PLAIN.test(ch)) {
      source += ch;
      continue;
    }
    const percent = [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
    const units = [...Array(ch.length).keys()].map((i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');
    const json = [...(JSON_SHORT[ch] ? [JSON_SHORT[ch]] : []), units, units.toUpperCase().replaceAll('\\U', '\\u')];
    const forms = new Set([ch, percent, percent.toLowerCase(), ...(ch === ' ' ? ['+'] : []), ...json, ...json.map((e) => e.replace(/[\\"]/g, '\\$&'))]);
    source += `(?:${[...forms].map(escapeRegExp).join('|')})`;
  }
  return source;
}

/** The short escapes of JSON strings (`\/` is optional, and some encoders write it). */
const JSON_SHORT: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '/': '\\/', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * The base64 text of `bytes` inside any longer base64 value: for each offset (0, 1 or 2 bytes into a
 * 3-byte group) the characters made of the secret's bits alone, and the same run to the end of the
 * value (its last, part-filled character, with and without padding) for a secret that ends it.
 */
function base64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    if (end - first < MIN_ENCODED_LENGTH) continue;
    const tail = encoded.slice(first);
    out.push(encoded.slice(first, end), tail, tail.replace(/=+$/, ''));
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface SecretSource {
  /**
   * The caller's environment: `env:` values, and for `sops:` the PATH sops is looked up on,
   * AHL_CACHE_DIR (sops's fallback location) and what sops reads (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, …).
   */
  env: Readonly<Record<string, string | undefined>>;
  /** The directory relative `file:` and `sops:` paths start from (the lab root). */
  baseDir: string;
  readFile?: (path: string) => string;
  /**
   * Decrypts the SOPS file at an absolute path and returns the document as JSON text; throws with
   * sops's stderr (as `stderr` or the message) when it cannot. The default runs the sops binary.
   */
  runSops?: (path: string) => string;
}

/**
 * Resolves secret references on demand and registers each value with the redactor, so a secret is
 * masked from the moment it is known. Values are cached, and each SOPS file is decrypted once; the
 * refs, never the values, appear in errors.
 */
export class Secrets {
  private readonly cache = new Map<string, string>();
  private readonly sopsDocs = new Map<string, unknown>();

  constructor(
    private readonly source: SecretSource,
    readonly redactor: Redactor = new Redactor(),
  ) {}

  resolve(ref: string, field?: string): string {
    const cached = this.cache.get(ref);
    if (cached !== undefined) return cached;
    if (!isSecretRef(ref)) throw ahlError('SECRET_REF_INVALID', { ref: ref.includes(':') ? ref.split(':')[0] + ':…' : '…' });
    const value = ref.startsWith('env:') ? this.fromEnv(ref, field) : ref.startsWith('file:') ? this.fromFile(ref, field) : this.fromSops(ref, field);
    this.redactor.add(value);
    this.cache.set(ref, value);
    return value;
  }

  private fromEnv(ref: string, field?: string): string {
    const v = this.source.env[ref.slice(4)];
    if (v === undefined || v === '') throw ahlError('SECRET_MISSING', { ref, ...(field ? { field } : {}) });
    return v;
  }

  private fromFile(ref: string, field?: string): string {
    const path = this.path(ref.slice(5));
    let text: string;
    try {
      text = (this.source.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(path);
    } catch {
      throw ahlError('SECRET_MISSING', { ref, ...(field ? { field } : {}) });
    }
    // A trailing newline is an editor's, not part of the secret.
    const value = text.replace(/\r?\n$/, '');
    if (value === '') throw ahlError('SECRET_MISSING', { ref, ...(field ? { field } : {}) });
    return value;
  }

  private fromSops(ref: string, field?: string): string {
    const hash = ref.lastIndexOf('#');
    const path = this.path(ref.slice(5, hash));
    const missing = () => ahlError('SECRET_MISSING', { ref, ...(field ? { field } : {}) });
    let doc = this.sopsDocs.get(path);
    if (doc === undefined) {
      doc = this.decrypt(ref, path, missing, field);
      this.sopsDocs.set(path, doc);
    }
    let node: unknown = doc;
    for (const segment of ref.slice(hash + 1).split('.')) {
      if (Array.isArray(node) && /^\d+$/.test(segment)) node = node[Number(segment)];
      else if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, segment))
        node = (node as Record<string, unknown>)[segment];
      else throw missing();
    }
    if (typeof node === 'number' && Number.isFinite(node)) return String(node);
    if (typeof node !== 'string' || node === '') throw missing();
    return node;
  }

  /** The decrypted document of one SOPS file. */
  private decrypt(ref: string, path: string, missing: () => Error, field?: string): unknown {
    const failed = (reason: string) => ahlError('SOPS_FAILED', { ref, reason: this.redactor.redact(reason), ...(field ? { field } : {}) });
    let run = this.source.runSops;
    if (!run) {
      // sops would say "no such file" too, but a missing file is a missing secret, as for file:.
      if (!existsSync(path)) throw missing();
      const sops = findSops(this.source.env);
      if (!sops) throw ahlError('SOPS_UNAVAILABLE', { ref, ...(field ? { field } : {}) });
      run = (p) => runSopsBinary(sops, p, this.source.env);
    }
    let text: string;
    try {
      text = run(path);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'ENOENT' && !this.source.runSops) throw ahlError('SOPS_UNAVAILABLE', { ref, ...(field ? { field } : {}) });
      throw failed(firstMeaningfulLine(e));
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw failed('sops did not print a JSON document');
    }
  }

  /** A `file:` or `sops:` path: relative to the lab root, `~/` for the home directory, or absolute. */
  private path(raw: string): string {
    return raw.startsWith('~/') ? resolve(homedir(), raw.slice(2)) : isAbsolute(raw) ? raw : resolve(this.source.baseDir, raw);
  }
}

/** sops on the caller's PATH, else where scripts/bootstrap installs it (`${AHL_CACHE_DIR:-~/.cache/ahl}/bin`). */
export function findSops(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const cacheDir = env.AHL_CACHE_DIR || join(env.HOME || homedir(), '.cache', 'ahl');
  const dirs = [...(env.PATH ?? '').split(delimiter).filter((d) => d !== ''), join(cacheDir, 'bin')];
  for (const dir of dirs) {
    const candidate = join(dir, 'sops');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function runSopsBinary(sops: string, path: string, env: Readonly<Record<string, string | undefined>>): string {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  return execFileSync(sops, ['--decrypt', '--output-type', 'json', path], {
    env: childEnv,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
}

/** The first line of a failed sops run's stderr that says something, without a leading "Error:". */
function firstMeaningfulLine(e: unknown): string {
  const err = e as { stderr?: unknown; message?: unknown };
  const stderr = typeof err.stderr === 'string' ? err.stderr : Buffer.isBuffer(err.stderr) ? err.stderr.toString('utf8') : '';
  const text = stderr.trim() !== '' ? stderr : typeof err.message === 'string' ? err.message : String(e);
  const line = text
    .split(/\r?\n/)
    .map((l) => l.replace(/\x1b\[[0-9;]*m/g, '').trim())
    .find((l) => l !== '');
  if (!line) return 'sops exited without saying why';
  const clean = line.replace(/^error:\s*/i, '');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}
