import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ahlError } from '@ahl/core';

/*
 * A guest image is debootstrapped from a mirror of its distribution's archive (Debian's, or
 * Ubuntu's), and its guests fetch packages from that mirror through the lab's apt proxy. ahl names
 * no mirror of its own: the machine's own apt configuration says which one this site uses, and
 * AHL_DEBIAN_MIRROR (AHL_UBUNTU_MIRROR) overrides it.
 */

/** One entry of apt's sources: a repository's URIs, suites and components (sources.list(5)). */
export interface AptSource {
  /** The file it came from, for messages. */
  readonly file: string;
  /** `deb`, `deb-src`. */
  readonly types: readonly string[];
  readonly uris: readonly string[];
  readonly suites: readonly string[];
  readonly components: readonly string[];
  /** false for a deb822 stanza with `Enabled: no`. */
  readonly enabled: boolean;
}

export type Distro = 'debian' | 'ubuntu';

/** A mirror and where it was found: AHL_DEBIAN_MIRROR (AHL_UBUNTU_MIRROR), or the apt source file that names it. */
export interface DebianMirror {
  /** The mirror's URL, without a trailing slash (the folder that holds dists/ and pool/). */
  readonly url: string;
  readonly from: string;
}

export const DEBIAN_MIRROR_VARIABLE = 'AHL_DEBIAN_MIRROR';
export const UBUNTU_MIRROR_VARIABLE = 'AHL_UBUNTU_MIRROR';
/** The setting that overrides the apt configuration, per distribution. */
export const MIRROR_VARIABLE: Readonly<Record<Distro, string>> = { debian: DEBIAN_MIRROR_VARIABLE, ubuntu: UBUNTU_MIRROR_VARIABLE };
const MISSING = { debian: 'DEBIAN_MIRROR_MISSING', ubuntu: 'UBUNTU_MIRROR_MISSING' } as const;

/** Each archive's release names (and Debian's aliases): a source of one of these suites is that archive. */
const SUITES: Readonly<Record<Distro, ReadonlySet<string>>> = {
  debian: new Set(['buster', 'bullseye', 'bookworm', 'trixie', 'forky', 'duke', 'sid', 'oldoldstable', 'oldstable', 'stable', 'testing', 'unstable']),
  ubuntu: new Set(['focal', 'jammy', 'noble', 'oracular', 'plucky', 'questing', 'resolute']),
};

/** Whether `file` is one of apt's source files, by its name (what apt itself reads). */
export function isAptSourceFile(name: string): boolean {
  return /^[A-Za-z0-9_.-]+\.(list|sources)$/.test(name);
}

/** Parses one apt source file: the one-line format (`*.list`) or deb822 (`*.sources`). Pure. */
export function parseAptSources(file: string, text: string): AptSource[] {
  return file.endsWith('.sources') ? parseDeb822(file, text) : parseOneLine(file, text);
}

function parseOneLine(file: string, text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    // `deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] URI SUITE COMPONENT…`
    const m = /^(deb|deb-src)\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!m) continue;
    out.push({ file, types: [m[1]!], uris: [m[2]!], suites: [m[3]!], components: m[4]!.trim().split(/\s+/).filter(Boolean), enabled: true });
  }
  return out;
}

function parseDeb822(file: string, text: string): AptSource[] {
  const out: AptSource[] = [];
  // Stanzas are separated by blank lines; comment lines may sit anywhere, even inside a stanza.
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      if (/^[ \t]/.test(line)) {
        if (last) fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):(.*)$/.exec(line);
      if (!m) continue;
      last = m[1]!.toLowerCase();
      fields.set(last, m[2]!.trim());
    }
    const words = (k: string) => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!fields.has('uris')) continue;
    out.push({ file, types: words('types'), uris: words('uris'), suites: words('suites'), components: words('components'), enabled: !/^(no|false|0)$/i.test(fields.get('enabled') ?? 'yes') });
  }
  return out;
}

/**
 * The first http:// mirror of `distro`'s archive among apt's sources, for `suite`: a `deb` source
 * of that suite with the main component, else one of another release of the same distribution (a
 * mirror holds every release), never the security archive (it has only the -security suites).
 * `mirror+file:` URIs are read through `mirrorLists` (path → the list's text). Only http:// counts:
 * guests fetch through the lab's apt proxy, which forwards plain HTTP. Pure.
 */
export function findMirror(
  sources: readonly AptSource[],
  distro: Distro,
  suite: string,
  mirrorLists: Readonly<Record<string, string>> = {},
): { url: string; file: string } | undefined {
  const usable = sources.filter((s) => s.enabled && s.types.includes('deb') && s.components.includes('main'));
  const exact = usable.filter((s) => s.suites.includes(suite));
  const otherRelease = usable.filter((s) => s.suites.some((x) => SUITES[distro].has(x.replace(/-(updates|backports)$/, ''))));
  for (const s of [...exact, ...otherRelease]) {
    for (const uri of s.uris.flatMap((u) => expand(u, mirrorLists))) {
      if (/^http:\/\/[^\s/]+/.test(uri)) return { url: uri.replace(/\/+$/, ''), file: s.file };
    }
  }
  return undefined;
}

/** A `mirror+file:/PATH` URI is the mirrors its list names (one per line, maybe with tab-separated metadata). */
function expand(uri: string, lists: Readonly<Record<string, string>>): string[] {
  const m = /^mirror\+file:(?:\/\/)?(\/.+)$/.exec(uri);
  if (!m) return [uri];
  return (lists[m[1]!] ?? '')
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

/**
 * The mirror to build `distro`'s image from: AHL_DEBIAN_MIRROR (AHL_UBUNTU_MIRROR) when set, else
 * the first one in this machine's apt configuration (`aptDir`/sources.list, then
 * sources.list.d/*.list and *.sources in name order). Throws DEBIAN_MIRROR_MISSING
 * (UBUNTU_MIRROR_MISSING), naming what to set, when there is none.
 */
export function archiveMirror(opts: { distro?: Distro; env?: NodeJS.ProcessEnv; suite: string; aptDir?: string }): DebianMirror {
  const distro = opts.distro ?? 'debian';
  const variable = MIRROR_VARIABLE[distro];
  const env = opts.env ?? process.env;
  const given = env[variable]?.trim();
  if (given) {
    if (!/^http:\/\/[^\s/]+/.test(given)) throw ahlError(MISSING[distro], { suite: opts.suite, looked: `${variable}="${given}" is not an http:// URL` });
    return { url: given.replace(/\/+$/, ''), from: variable };
  }
  const aptDir = opts.aptDir ?? '/etc/apt';
  const files = [join(aptDir, 'sources.list')];
  const dir = join(aptDir, 'sources.list.d');
  if (existsSync(dir)) files.push(...readdirSync(dir).filter(isAptSourceFile).sort().map((n) => join(dir, n)));
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  const sources = files.flatMap((f) => {
    const text = read(f);
    return text === undefined ? [] : parseAptSources(f, text);
  });
  const lists: Record<string, string> = {};
  for (const uri of sources.flatMap((s) => s.uris)) {
    const m = /^mirror\+file:(?:\/\/)?(\/.+)$/.exec(uri);
    const text = m ? read(m[1]!) : undefined;
    if (m && text !== undefined) lists[m[1]!] = text;
  }
  const found = findMirror(sources, distro, opts.suite, lists);
  if (!found) throw ahlError(MISSING[distro], { suite: opts.suite, looked: `${variable} is not set; ${aptDir}/sources.list and ${aptDir}/sources.list.d/ hold none` });
  return { url: found.url, from: found.file };
}

