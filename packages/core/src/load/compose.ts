import type { FieldPath } from './yaml-source.js';
import { ParsedYaml, type SourceFile } from './yaml-source.js';

/*
 * The part of a Compose file ahl checks before anything is deployed: that it is a mapping with a
 * non-empty `services` mapping, that every service names an image or a build, and which ports its
 * services publish (so two stacks on one host cannot both claim a port). It is not a full Compose
 * validator: `docker compose config` on the host remains the authority for everything else.
 */

/** Top-level keys of the Compose specification (plus `x-` extensions). */
const TOP_LEVEL = new Set(['version', 'name', 'services', 'networks', 'volumes', 'configs', 'secrets', 'include']);

export interface ComposeProblem {
  readonly path: FieldPath;
  readonly message: string;
  readonly target: 'key' | 'value';
}

/** One `ports:` entry of a service, still uninterpolated. */
export interface ComposePort {
  readonly service: string;
  /** Where the entry is in the compose file, for messages. */
  readonly path: FieldPath;
  /** The entry as written (short syntax) or rebuilt from the long syntax. */
  readonly spec: string;
}

export interface ComposeSummary {
  readonly parsed: ParsedYaml;
  /** Service names, sorted. */
  readonly services: readonly string[];
  readonly ports: readonly ComposePort[];
  readonly problems: readonly ComposeProblem[];
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses and checks one compose file. Pure. Merge keys (`<<: *defaults`) are read as Docker Compose
 * reads them, so the checks below see each service with what it merges.
 */
export function checkCompose(file: SourceFile): ComposeSummary {
  const parsed = new ParsedYaml(file, { merge: true });
  const problems: ComposeProblem[] = [];
  const ports: ComposePort[] = [];
  const services: string[] = [];
  const v = parsed.value;
  if (parsed.problems.some((p) => p.fatal)) return { parsed, services, ports, problems };
  if (!isMap(v)) {
    problems.push({ path: [], message: 'a compose file must be a mapping with a services key', target: 'value' });
    return { parsed, services, ports, problems };
  }
  for (const k of Object.keys(v)) if (!TOP_LEVEL.has(k) && !k.startsWith('x-')) problems.push({ path: [k], message: `"${k}" is not a Compose top-level key`, target: 'key' });
  if (!isMap(v.services) || Object.keys(v.services).length === 0) {
    problems.push({ path: v.services === undefined ? [] : ['services'], message: 'services must be a mapping of at least one service', target: 'value' });
    return { parsed, services, ports, problems };
  }
  for (const [name, svc] of Object.entries(v.services).sort(([a], [b]) => (a < b ? -1 : 1))) {
    services.push(name);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) problems.push({ path: ['services', name], message: 'a service name holds only letters, digits, ".", "_" and "-"', target: 'key' });
    if (!isMap(svc)) {
      problems.push({ path: ['services', name], message: 'a service must be a mapping', target: 'value' });
      continue;
    }
    if (svc.image === undefined && svc.build === undefined) problems.push({ path: ['services', name], message: 'a service needs an image or a build', target: 'key' });
    else if (svc.image !== undefined && typeof svc.image !== 'string') problems.push({ path: ['services', name, 'image'], message: 'must be a string', target: 'value' });
    if (svc.ports === undefined) continue;
    if (!Array.isArray(svc.ports)) {
      problems.push({ path: ['services', name, 'ports'], message: 'must be a list', target: 'value' });
      continue;
    }
    svc.ports.forEach((p, i) => {
      const path = ['services', name, 'ports', i];
      if (typeof p === 'string' || typeof p === 'number') ports.push({ service: name, path, spec: String(p) });
      else if (isMap(p) && (typeof p.target === 'number' || typeof p.target === 'string')) {
        if (p.published === undefined) return;
        const ip = typeof p.host_ip === 'string' ? `${p.host_ip}:` : '';
        const proto = typeof p.protocol === 'string' ? `/${p.protocol}` : '';
        ports.push({ service: name, path, spec: `${ip}${String(p.published)}:${String(p.target)}${proto}` });
      } else problems.push({ path, message: 'must be "[IP:]HOST:CONTAINER[/PROTOCOL]" or a mapping with target', target: 'value' });
    });
  }
  return { parsed, services, ports, problems };
}

/**
 * Compose variable interpolation: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `$VAR` and `$$`.
 * Returns undefined when a variable has no value and no default (a secret, say), since the result
 * is then unknown until deploy time.
 */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string | undefined {
  let unknown = false;
  const out = text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, braced: string | undefined, colon: string, op: string | undefined, arg: string, bare: string | undefined) => {
    if (m === '$$') return '$';
    const name = (braced ?? bare)!;
    const value = env[name];
    const unset = value === undefined || (colon === ':' && value === '');
    if (op === '-') return unset ? arg : value!;
    if (op === '+') return unset ? '' : arg;
    if (value === undefined) unknown = true;
    return value ?? '';
  });
  return unknown ? undefined : out;
}

/** A published host port: address ('' for every address), port and protocol. */
export interface PublishedPort {
  readonly address: string;
  readonly port: number;
  readonly protocol: string;
}

/**
 * The host ports a short-syntax port entry publishes (ranges expanded), [] when it publishes none
 * (`"80"`: a random host port), or undefined when the entry is malformed.
 */
export function publishedPorts(spec: string): PublishedPort[] | undefined {
  const [body, protocol = 'tcp'] = spec.split('/') as [string, string?];
  if (!/^(tcp|udp|sctp)$/.test(protocol)) return undefined;
  // IPv6 host addresses are written in brackets: [::1]:8080:80.
  const m = /^(?:(\[[0-9a-fA-F:.]*\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:(\d+(?:-\d+)?)?:)?(\d+(?:-\d+)?)$/.exec(body);
  if (!m) return undefined;
  const [, address = '', host, container] = m;
  if (host === undefined || host === '') {
    if (!/^\d+(-\d+)?$/.test(container!)) return undefined;
    return [];
  }
  const [lo, hi = lo] = host.split('-').map(Number) as [number, number?];
  if (!(lo >= 1 && hi! <= 65535 && lo <= hi!)) return undefined;
  const out: PublishedPort[] = [];
  for (let p = lo; p <= hi!; p++) out.push({ address: address === '0.0.0.0' || address === '[::]' ? '' : address, port: p, protocol });
  return out;
}
