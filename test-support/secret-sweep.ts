/*
 * The secret sweep of the tool and end-to-end tiers (issue #22): after a test, no secret it used may
 * be in what the run printed or returned, nor in any file under the lab's `.ahl/`, in any of the
 * encodings a secret travels in.
 *
 * The encodings are written here again on purpose, not imported from @ahl/core's Redactor: the sweep
 * is the check on the redactor, and core's own test asserts that the redactor masks every form this
 * file looks for. Node built-ins only (test-support is not a package). Shared by tests by relative
 * path (`../../../test-support/secret-sweep.js`); no package's src may import it.
 */
import { closeSync, lstatSync, openSync, readdirSync, readSync, type Stats } from 'node:fs';
import { join, resolve } from 'node:path';

/** One form of a secret, as the exact text to look for. */
export interface SecretEncoding {
  /** e.g. `json`, `form`, `hex`, `base64url@2` (the secret 2 bytes into a 3-byte group). */
  readonly encoding: string;
  readonly text: string;
}

/** A secret found where none may be. Never holds the secret itself, so it can be printed. */
export interface SecretFinding {
  /** The file's path, or the label of the text it was found in. */
  readonly where: string;
  /** The secret's label (its key in the secrets given, or `secret[i]`). */
  readonly secret: string;
  readonly encoding: string;
}

/** Secrets to look for: label → value, or a list (labelled `secret[i]`). Empty values are ignored. */
export type SweepSecrets = Readonly<Record<string, string>> | readonly string[];

/** What a run printed or returned: one text (`output`), several (`output[i]`), or label → text. */
export type SweepText = string | readonly string[] | Readonly<Record<string, string>>;

export interface SweepOptions {
  /**
   * Files or folders not read because they hold a secret by design, each with its reason in the
   * caller's comment: e.g. the local lab's token file, which the lab's `file:` reference points at.
   */
  readonly skip?: readonly string[];
}

/**
 * Hex and base64 forms shorter than this are not looked for: so few characters of those alphabets
 * turn up by chance (the redactor masks the same ones).
 */
export const MIN_ENCODED_LENGTH = 8;

/**
 * Every form `secret` is looked for in: as written; inside a JSON string (JavaScript's
 * JSON.stringify, ASCII-only as Python's json.dumps, HTML-safe as Go's encoding/json, and a JSON
 * string inside another); URL-encoded (encodeURIComponent, RFC 3986, form encoding with `+`, either
 * with uppercase hex); hex, lower- and uppercase; and base64, standard and URL-safe, for the secret
 * starting 0, 1 or 2 bytes into a 3-byte group of a longer value: the characters made of its bits
 * alone, which are there whatever surrounds it and with or without padding. Duplicates dropped.
 */
export function secretEncodings(secret: string): SecretEncoding[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const ascii = json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const html = json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  // encodeURIComponent throws on a lone surrogate; UTF-8 (as any encoder sends it) has U+FFFD there.
  const uri = encodeURIComponent(Buffer.from(secret, 'utf8').toString('utf8'));
  const rfc3986 = uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const forms: [string, string][] = [
    ['raw', secret],
    ['json', json],
    ['json-ascii', ascii],
    ['json-html', html],
    ['json-in-json', JSON.stringify(json).slice(1, -1)],
    ['url', uri],
    ['url-rfc3986', rfc3986],
    ['form', new URLSearchParams([['', secret]]).toString().slice(1)],
    ['form-rfc3986', rfc3986.replaceAll('%20', '+')],
  ];
  const bytes = Buffer.from(secret, 'utf8');
  const encoded: [string, string][] = [
    ['hex', bytes.toString('hex')],
    ['HEX', bytes.toString('hex').toUpperCase()],
  ];
  for (let offset = 0; offset < 3; offset++) {
    // The secret after `offset` filler bytes: characters from the first with none of the filler's
    // bits to the last with none of what follows (6 bits each; the filler is 8 × offset bits).
    const standard = Buffer.concat([Buffer.alloc(offset, 0xff), bytes]).toString('base64');
    const own = standard.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    encoded.push([`base64@${offset}`, own], [`base64url@${offset}`, own.replaceAll('+', '-').replaceAll('/', '_')]);
  }
  const out: SecretEncoding[] = [];
  const seen = new Set<string>();
  for (const [encoding, text] of [...forms, ...encoded.filter(([, t]) => t.length >= MIN_ENCODED_LENGTH)]) {
    if (text === '' || seen.has(text)) continue;
    seen.add(text);
    out.push({ encoding, text });
  }
  return out;
}

/** Read files in pieces of this size, so a large file is never held whole. */
const CHUNK = 8 * 1024 * 1024;

/**
 * Looks for every secret, in every encoding of `secretEncodings`, in each file under `places` (files
 * or folders, walked recursively; symbolic links are not followed, and a path that does not exist
 * holds nothing) and in `text`, what the run printed or returned. Returns what it found, sorted;
 * an empty list is a clean sweep.
 */
export function secretSweep(places: string | readonly string[], secrets: SweepSecrets, text?: SweepText, options: SweepOptions = {}): SecretFinding[] {
  const labelled: [string, string][] = (Array.isArray(secrets) ? secrets.map((v, i): [string, string] => [`secret[${i}]`, v]) : Object.entries(secrets)).filter(([, v]) => v !== '');
  const needles = labelled.flatMap(([secret, value]) => secretEncodings(value).map((e) => ({ secret, encoding: e.encoding, text: e.text, bytes: Buffer.from(e.text, 'utf8') })));
  const found = new Map<string, SecretFinding>();
  const note = (where: string, n: { secret: string; encoding: string }) => found.set(JSON.stringify([where, n.secret, n.encoding]), { where, secret: n.secret, encoding: n.encoding });
  if (needles.length === 0) return [];

  const texts: [string, string][] =
    text === undefined ? [] : typeof text === 'string' ? [['output', text]] : Array.isArray(text) ? text.map((t, i): [string, string] => [`output[${i}]`, t]) : Object.entries(text);
  for (const [where, t] of texts) for (const n of needles) if (t.includes(n.text)) note(where, n);

  const skip = new Set((options.skip ?? []).map((p) => resolve(p)));
  const longest = Math.max(...needles.map((n) => n.bytes.length));
  const scanFile = (file: string, size: number) => {
    const fd = openSync(file, 'r');
    try {
      // Consecutive pieces overlap by the longest needle less one byte, so none is missed at a seam.
      const buf = Buffer.alloc(Math.min(size, CHUNK) + longest);
      let carry = 0;
      for (let pos = 0; pos < size; ) {
        const read = readSync(fd, buf, carry, Math.min(CHUNK, buf.length - carry), pos);
        if (read <= 0) break;
        pos += read;
        const view = buf.subarray(0, carry + read);
        for (const n of needles) if (view.includes(n.bytes)) note(file, n);
        carry = Math.min(longest - 1, view.length);
        view.copyWithin(0, view.length - carry);
      }
    } finally {
      closeSync(fd);
    }
  };
  const visit = (path: string) => {
    if (skip.has(resolve(path))) return;
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const name of readdirSync(path).sort()) visit(join(path, name));
    else if (st.isFile() && st.size > 0) scanFile(path, st.size);
  };
  for (const place of typeof places === 'string' ? [places] : places) visit(place);

  return [...found.values()].sort((a, b) => a.where.localeCompare(b.where) || a.secret.localeCompare(b.secret) || a.encoding.localeCompare(b.encoding));
}

/**
 * `fn`, keeping in `sink` what each call returned (JSON text, or the text itself) or threw (its
 * message, stack and JSON form), so a test's sweep covers what the functions it drives returned.
 */
export function recorded<A extends unknown[], R>(sink: string[], fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    try {
      const r = await fn(...args);
      sink.push(typeof r === 'string' ? r : JSON.stringify(r) ?? String(r));
      return r;
    } catch (e) {
      sink.push(errorText(e));
      throw e;
    }
  };
}

/** Everything an error says: message and stack, its JSON form (toJSON or own fields), and its cause's. */
function errorText(e: unknown, depth = 0): string {
  if (!(e instanceof Error)) return String(e);
  let json: string;
  try {
    json = JSON.stringify(e) ?? '';
  } catch {
    json = '';
  }
  const cause = depth < 5 && e.cause !== undefined ? `\ncause: ${errorText(e.cause, depth + 1)}` : '';
  return `${e.stack ?? `${e.name}: ${e.message}`}\n${json}${cause}`;
}
