export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Encodes parameters as PVE reads them: booleans as 1/0, lists as repeated keys, undefined left out. */
export function encodeParams(params: Readonly<Record<string, unknown>> | undefined): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const e of v) out.append(k, String(e));
    else out.set(k, v === true ? '1' : v === false ? '0' : String(v));
  }
  return out;
}
