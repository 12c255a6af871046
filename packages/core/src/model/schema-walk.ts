import type { z } from 'zod';
import type { FieldPath } from '../load/yaml-source.js';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
}

const def = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Strips wrappers (optional, default, nullable, transforms) down to the structural schema. */
function core(s: z.ZodType): z.ZodType[] {
  const d = def(s);
  switch (d.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return core(d.innerType!);
    case 'pipe':
      return core(d.in!);
    case 'union':
      return d.options!.flatMap(core);
    default:
      return [s];
  }
}

/** The keys an object schema accepts at `path` in the data, for "did you mean" suggestions. */
export function knownKeysAt(schema: z.ZodType, path: FieldPath): string[] {
  let current = core(schema);
  for (const seg of path) {
    const next: z.ZodType[] = [];
    for (const s of current) {
      const d = def(s);
      if (d.type === 'object' && typeof seg === 'string' && d.shape![seg]) next.push(...core(d.shape![seg]!));
      else if (d.type === 'array' && typeof seg === 'number') next.push(...core(d.element!));
      else if (d.type === 'record') next.push(...core(d.valueType!));
    }
    current = next;
  }
  const keys = new Set<string>();
  for (const s of current) {
    const d = def(s);
    if (d.type === 'object') for (const k of Object.keys(d.shape!)) keys.add(k);
  }
  return [...keys];
}
