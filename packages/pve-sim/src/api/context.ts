import type { AuthId } from '../auth/permissions.js';
import type { SimCore } from '../model/core.js';

/** What a handler gets: the cluster, the caller and the validated parameters. */
export interface HandlerCtx {
  core: SimCore;
  auth: AuthId;
  /** Parameters after validation: strings, arrays, or JSON scalars from JSON bodies. */
  params: Record<string, unknown>;
  method: string;
  /** The path below /api2/json. */
  path: string;
  /** Set to add a top-level `total` to the response. */
  total?: number;
}

export type Handler = (ctx: HandlerCtx) => unknown;

export function str(ctx: HandlerCtx, key: string): string | undefined {
  const v = ctx.params[key];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String).join(',');
  return String(v);
}

export function reqStr(ctx: HandlerCtx, key: string): string {
  return str(ctx, key) ?? '';
}

export function int(ctx: HandlerCtx, key: string): number | undefined {
  const v = str(ctx, key);
  return v === undefined ? undefined : Number(v);
}

/** Booleans arrive as 0/1 (form) or JSON true/false/0/1. */
export function bool(ctx: HandlerCtx, key: string): boolean | undefined {
  const v = ctx.params[key];
  if (v === undefined || v === null) return undefined;
  return v === true || v === 1 || v === '1';
}
