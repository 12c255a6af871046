import type { LabLocal } from '../model/schema.js';
import type { Diagnostic } from './diagnostics.js';
import { formatField } from './diagnostics.js';

/*
 * The original lab's operators set their site in environment variables (PVE_ACCESS_HOST, PVE_NODE,
 * PVE_BRIDGE, …). ahl accepts them as fallbacks to lab.yaml, so a migration can start from the
 * shell it already has: lab.yaml wins wherever it sets a value; where it leaves one to its default
 * (or leaves out an optional or required field), the variable fills it. lab.local.yaml still wins
 * over both. Validation stays pure: the variables arrive in LabInput.env, picked from the caller's
 * environment by the loader, and the result names every one that was used.
 */

/** The environment validation sees: only the variables below, as the caller's environment has them. */
export type LabEnv = Readonly<Record<string, string | undefined>>;

/** One variable that filled a field lab.yaml left out. */
export interface EnvFallback {
  /** The variable, e.g. `PVE_NODE`. */
  readonly variable: string;
  /** The lab.yaml field it filled, e.g. `nodes` or `defaults.bridge`. */
  readonly field: string;
  /** The value the field took: for PM_TOKEN_SECRET the reference `env:PM_TOKEN_SECRET`, never the secret. */
  readonly value: string | number;
}

interface Rule {
  readonly variable: string;
  /** Where in lab.yaml. */
  readonly path: readonly string[];
  /** The field's value, from the variable's text. */
  readonly value: (text: string) => unknown;
  /** How the report shows that value. */
  readonly shown: (text: string, value: unknown) => string | number;
}

const same = (text: string) => text;
const shownValue = (_: string, v: unknown) => (typeof v === 'number' ? v : String(v));
/** A number when the text is one, else the text (the model then says what it expected). */
const numeric = (text: string): unknown => (/^\s*-?\d+(\.\d+)?\s*$/.test(text) ? Number(text) : text);

/**
 * PVE_ACCESS_HOST was the API host (`pve1.lab`, `192.168.1.5`, maybe with a port); lab.yaml wants
 * the endpoint URL. A bare host gets Proxmox's API port, 8006; a URL is taken as it is.
 */
export function endpointFromHost(text: string): string {
  const t = text.trim();
  if (/^https?:\/\//i.test(t)) return t;
  if (/^(\[[0-9A-Fa-f:.]+\]|[^:/\s[\]]+):\d+$/.test(t)) return `https://${t}`;
  if (/^(\[[0-9A-Fa-f:.]+\]|[^:/\s[\]]+)$/.test(t)) return `https://${t}:8006`;
  return t;
}

/** The variables, in the order `ahl validate` reports them, with the lab.yaml field each fills. */
export const ENV_FALLBACK_RULES: readonly Rule[] = [
  { variable: 'PVE_ACCESS_HOST', path: ['proxmox', 'endpoint'], value: endpointFromHost, shown: shownValue },
  { variable: 'PM_TOKEN_ID', path: ['proxmox', 'tokenId'], value: same, shown: shownValue },
  // The secret is never read here: the field becomes the reference that reads it when a command needs it.
  { variable: 'PM_TOKEN_SECRET', path: ['proxmox', 'tokenSecret'], value: () => 'env:PM_TOKEN_SECRET', shown: shownValue },
  { variable: 'PVE_NODE', path: ['nodes'], value: (text) => ({ [text]: {} }), shown: (text) => text },
  { variable: 'PVE_STORAGE_VM', path: ['defaults', 'storage', 'vm'], value: same, shown: shownValue },
  { variable: 'PVE_STORAGE_ISO', path: ['defaults', 'storage', 'iso'], value: same, shown: shownValue },
  { variable: 'PVE_BRIDGE', path: ['defaults', 'bridge'], value: same, shown: shownValue },
  { variable: 'L0_MIN_FREE_GIB_ISO', path: ['runway', 'minFreeGibIso'], value: numeric, shown: shownValue },
  { variable: 'L0_MIN_FREE_PCT_VM', path: ['runway', 'minFreePctVm'], value: numeric, shown: shownValue },
];

export const ENV_FALLBACK_VARIABLES: readonly string[] = ENV_FALLBACK_RULES.map((r) => r.variable);

/** A variable counts when it is set and not empty (an empty one, as `VAR= cmd` leaves it, is unset). */
const valueOf = (env: LabEnv | undefined, name: string): string | undefined => {
  const v = env?.[name];
  return v === undefined || v.trim() === '' ? undefined : v;
};

/** The fallback variables of a caller's environment, and nothing else of it (for LabInput.env). */
export function pickLabEnv(env: LabEnv | undefined): LabEnv {
  const out: Record<string, string> = {};
  for (const name of ENV_FALLBACK_VARIABLES) {
    const v = valueOf(env, name);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/**
 * What of the environment a validated lab depends on, for the loader's cache key: each variable's
 * value, but only whether PM_TOKEN_SECRET is set (its value never decides anything here).
 */
export function labEnvKey(env: LabEnv | undefined): string {
  return ENV_FALLBACK_RULES.map((r) => {
    const v = valueOf(env, r.variable);
    return v === undefined ? '' : `${r.variable}=${r.variable === 'PM_TOKEN_SECRET' ? 'set' : v}`;
  }).join('\0');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `PVE_NODE from the environment filled nodes: pve1`: the line `ahl validate` prints. */
export function formatEnvFallback(f: EnvFallback): string {
  return `${f.variable} from the environment filled ${f.field}: ${f.value}`;
}

/** One validation's use of the environment: fills lab.yaml's raw value, then reports what it did. */
export class EnvFallbacks {
  private readonly filled: (EnvFallback & { readonly path: readonly string[]; readonly text: string })[] = [];

  constructor(private readonly env: LabEnv | undefined) {}

  /**
   * lab.yaml's parsed value with every absent field that a set variable covers filled in; the value
   * itself is left untouched (the filled one is a copy along the changed paths). A key that is
   * missing or holds nothing (`bridge:`, `proxmox:`) is absent; a section that holds something other
   * than a mapping is lab.yaml's, and the model reports it as it is.
   */
  readonly fill = (raw: unknown): unknown => {
    if (!isObject(raw) || !this.env) return raw;
    let root: Record<string, unknown> = raw;
    for (const rule of ENV_FALLBACK_RULES) {
      const text = valueOf(this.env, rule.variable);
      if (text === undefined) continue;
      const value = rule.value(text);
      const next = setIfAbsent(root, rule.path, value);
      if (!next) continue;
      root = next;
      this.filled.push({ variable: rule.variable, field: formatField(rule.path), value: rule.shown(text, value), path: rule.path, text });
    }
    return root;
  };

  /**
   * Says, in each of lab.yaml's diagnostics about a field a variable filled, which variable the
   * value came from: the file does not hold it, so its line alone would not explain the problem.
   */
  explain(diagnostics: Diagnostic[]): void {
    for (const [i, d] of diagnostics.entries()) {
      if (d.file !== 'lab.yaml') continue;
      const f = this.filled.find((x) => d.field === x.field || d.field.startsWith(`${x.field}.`) || d.field.startsWith(`${x.field}[`));
      if (f) diagnostics[i] = { ...d, message: `${d.message} (from ${f.variable}=${JSON.stringify(f.text)} in the environment)` };
    }
  }

  /**
   * The variables that decided a field, for ValidationResult (nothing when none did). One whose field
   * lab.local.yaml sets as well is left out: this machine's file won over it.
   */
  result(local: LabLocal | undefined): { envFallbacks?: readonly EnvFallback[] } {
    const used = this.filled
      .filter((f) => !(f.path[0] === 'proxmox' && local?.proxmox?.[f.path[1] as keyof NonNullable<LabLocal['proxmox']>] !== undefined))
      .map(({ variable, field, value }) => ({ variable, field, value }));
    return used.length ? { envFallbacks: used } : {};
  }
}

/** A copy of `root` with `value` at `path` when each section on the way is a mapping or absent and the field is absent (null counts as absent); else undefined. */
function setIfAbsent(root: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> | undefined {
  const [key, ...rest] = path as [string, ...string[]];
  const here = root[key] ?? undefined;
  if (rest.length === 0) return here === undefined ? { ...root, [key]: value } : undefined;
  if (here !== undefined && !isObject(here)) return undefined;
  const inner = setIfAbsent(here ?? {}, rest, value);
  return inner ? { ...root, [key]: inner } : undefined;
}
