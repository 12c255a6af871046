import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { ahlError } from './errors.js';

/**
 * A reference to a secret held outside the lab files: `env:NAME` (an environment variable) or
 * `file:PATH` (a file's content, relative paths from the lab root, `~` for the home directory).
 */
export type SecretRef = `env:${string}` | `file:${string}`;

export const SECRET_REF_RE = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:\S.*)$/;

export function isSecretRef(s: string): s is SecretRef {
  return SECRET_REF_RE.test(s);
}

/**
 * Masks every secret it has been given in any string or value. One redactor lives for the whole
 * process: everything ahl prints or writes passes through it.
 */
export class Redactor {
  static readonly MASK = '********';
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  /** Registers a resolved secret, and the encodings it commonly travels in (URL, base64). */
  add(secret: string): void {
    if (secret.length === 0) return;
    const forms = [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
    for (const f of forms) this.secrets.add(f);
    this.pattern = undefined;
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    if (this.secrets.size === 0) return text;
    if (!this.pattern) {
      // Longest first, so a secret that contains another is masked whole.
      const alternatives = [...this.secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.pattern = new RegExp(alternatives.join('|'), 'g');
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

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface SecretSource {
  env: Readonly<Record<string, string | undefined>>;
  /** The directory relative `file:` paths start from (the lab root). */
  baseDir: string;
  readFile?: (path: string) => string;
}

/**
 * Resolves secret references on demand and registers each value with the redactor, so a secret is
 * masked from the moment it is known. Values are cached; the refs, never the values, appear in errors.
 */
export class Secrets {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly source: SecretSource,
    readonly redactor: Redactor = new Redactor(),
  ) {}

  resolve(ref: string, field?: string): string {
    const cached = this.cache.get(ref);
    if (cached !== undefined) return cached;
    if (!isSecretRef(ref)) throw ahlError('SECRET_REF_INVALID', { ref: ref.includes(':') ? ref.split(':')[0] + ':…' : '…' });
    const value = ref.startsWith('env:') ? this.fromEnv(ref, field) : this.fromFile(ref, field);
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
    const raw = ref.slice(5);
    const path = raw.startsWith('~/') ? resolve(homedir(), raw.slice(2)) : isAbsolute(raw) ? raw : resolve(this.source.baseDir, raw);
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
}
