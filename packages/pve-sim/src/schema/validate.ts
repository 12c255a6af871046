import { HASH_FORMATS, STRING_FORMATS, splitList } from './formats.js';
import type { ParamSchema } from './types.js';

/**
 * A port of the validating half of PVE::JSONSchema (check_prop, check_type,
 * check_object, check_format, parse_property_string). Messages are PVE's
 * verbatim; several messages for one key are joined by the two characters
 * backslash and n, as the Perl code does.
 */
export type ParamErrors = Record<string, string>;

/** Highest index of each numbered parameter family (`net[n]` → net0..net31). */
export const FAMILY_MAX: Record<string, number> = {
  ide: 3,
  sata: 5,
  scsi: 30,
  virtio: 15,
  net: 31,
  ipconfig: 31,
  unused: 255,
  serial: 3,
  parallel: 2,
  usb: 14,
  hostpci: 15,
  numa: 7,
  virtiofs: 9,
  mp: 255,
};

/** Looks a parameter up, resolving `family[n]` entries for `family<digits>`. */
export function lookupProperty(props: Record<string, ParamSchema>, key: string): ParamSchema | undefined {
  const direct = props[key];
  if (direct) return direct;
  const m = /^([a-z]+)(\d+)$/.exec(key);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const family = props[`${m[1]}[n]`];
  if (!family) return undefined;
  const max = FAMILY_MAX[m[1]] ?? 31;
  if (!/^(0|[1-9]\d*)$/.test(m[2]) || Number(m[2]) > max) return undefined;
  return family;
}

function addError(errors: ParamErrors, path: string, msg: string): void {
  const key = path === '' ? '_root' : path;
  const prev = errors[key];
  errors[key] = prev === undefined ? msg : `${prev}\\n${msg}`;
}

const isInteger = (v: string): boolean => /^[+-]?\d+$/.test(v);
const isNumber = (v: string): boolean => /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/.test(v);

/** Perl's view of a JSON/form value: refs are arrays, objects and JSON booleans. */
function perlRef(value: unknown): string | undefined {
  if (Array.isArray(value)) return 'ARRAY';
  if (typeof value === 'boolean') return 'JSON::PP::Boolean';
  if (value !== null && typeof value === 'object') return 'HASH';
  return undefined;
}

/** Perl stringification of a scalar (JSON numbers print as Perl prints them). */
export function scalarText(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return String(value);
}

function checkType(path: string, type: string | undefined, value: unknown, errors: ParamErrors): boolean {
  if (!type || type === 'any') return true;
  if (type === 'null') {
    addError(errors, path, `type check ('null') failed - value is not null`);
    return false;
  }
  const ref = perlRef(value);
  if (type === 'array') {
    if (ref !== 'ARRAY') {
      addError(errors, path, `type check ('array') failed`);
      return false;
    }
    return true;
  }
  if (type === 'object') {
    if (ref !== 'HASH') {
      addError(errors, path, `type check ('object') failed`);
      return false;
    }
    return true;
  }
  if (ref) {
    if (type === 'boolean' && typeof value === 'boolean') return true;
    addError(errors, path, `type check ('${type}') failed - got ${ref}`);
    return false;
  }
  const text = scalarText(value);
  if (type === 'boolean') {
    if (text === '1' || text === '0') return true;
    addError(errors, path, `type check ('boolean') failed - got '${text}'`);
    return false;
  }
  if (type === 'integer' && !isInteger(text)) {
    addError(errors, path, `type check ('integer') failed - got '${text}'`);
    return false;
  }
  if (type === 'number' && !isNumber(text)) {
    addError(errors, path, `type check ('number') failed - got '${text}'`);
    return false;
  }
  return true;
}

/** Perl regexes in the apidoc are stringified as `(?^:...)`; JS needs `(?:...)`. */
const regexCache = new Map<string, RegExp>();
function anchored(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern.replace(/\(\?\^[a-z]*:/g, '(?:')})$`);
    regexCache.set(pattern, re);
  }
  return re;
}

/** Raised by format checks; `errors` carries nested property-string errors. */
export class FormatError extends Error {
  constructor(
    message: string,
    readonly errors?: ParamErrors,
  ) {
    super(message);
  }
  /** PVE::Exception stringification: message, then `key: error` lines. */
  render(): string {
    let text = this.message;
    for (const [k, v] of Object.entries(this.errors ?? {})) text += `${k}: ${v}\n`;
    return text;
  }
}

/** check_format: throws FormatError (or Error) with PVE's message. */
export function checkFormat(format: string | Record<string, ParamSchema>, value: string, path: string): unknown {
  if (typeof format === 'object') return parsePropertyString(format, value, path);
  if (format === 'regex') return undefined;
  const m = /^(.*?)(?:-(list|opt))?$/.exec(format);
  const name = m?.[1] ?? format;
  const kind = m?.[2];
  const hash = HASH_FORMATS[name];
  if (hash && !kind) return parsePropertyString(hash, value, path);
  const verifier = STRING_FORMATS[kind === 'list' && name === 'pve-vmid' ? 'pve-vmid-list-entry' : name];
  // Formats pve-sim does not model are accepted rather than rejected, so a
  // client is never refused for a value real PVE would take.
  if (!verifier) return undefined;
  if (kind === 'list') {
    for (const v of splitList(value)) verifier(v);
  } else if (kind === 'opt') {
    if (value) verifier(value);
  } else {
    verifier(value);
  }
  return undefined;
}

export function parseBoolean(value: string): 0 | 1 | undefined {
  if (/^(1|on|yes|true)$/i.test(value)) return 1;
  if (/^(0|off|no|false)$/i.test(value)) return 0;
  return undefined;
}

/**
 * parse_property_string: splits `a,b=c` by the format, checks it, and returns
 * the parsed map. Throws FormatError("format error\n", errors) on check errors.
 */
export function parsePropertyString(format: Record<string, ParamSchema>, data: string, path = ''): Record<string, string> {
  const res: Record<string, string> = {};
  let defaultKey: string | undefined;
  for (const part of data.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=(.+)$/s.exec(part);
    if (kv && kv[1] !== undefined && kv[2] !== undefined) {
      let k = kv[1];
      let v = kv[2];
      if (res[k] !== undefined) throw new FormatError(`duplicate key in comma-separated list property: ${k}\n`);
      let schema = format[k];
      if (schema?.alias) {
        if (schema.keyAlias) {
          if (res[schema.keyAlias] !== undefined) throw new FormatError(`key alias '${schema.keyAlias}' is already defined\n`);
          res[schema.keyAlias] = k;
        }
        k = schema.alias;
        schema = format[k];
      }
      if (!schema) throw new FormatError(`invalid key in comma-separated list property: ${k}\n`);
      if (schema.type === 'boolean') {
        const b = parseBoolean(v);
        if (b !== undefined) v = String(b);
      }
      res[k] = v;
    } else if (!part.includes('=')) {
      if (defaultKey) throw new FormatError(`duplicate key in comma-separated list property: ${defaultKey}\n`);
      for (const key of Object.keys(format)) {
        if (format[key]?.default_key) {
          defaultKey = key;
          if (!res[key]) {
            res[key] = part;
            break;
          }
          throw new FormatError(`duplicate key in comma-separated list property: ${key}\n`);
        }
      }
      if (!defaultKey) throw new FormatError('value without key, but schema does not define a default key\n');
    } else {
      throw new FormatError('missing key in comma-separated list property\n');
    }
  }
  const errors: ParamErrors = {};
  checkObject(path, format, res, 0, errors);
  if (Object.keys(errors).length > 0) throw new FormatError('format error\n', errors);
  return res;
}

function checkProp(value: unknown, schema: ParamSchema, path: string, errors: ParamErrors): void {
  if (value === undefined || value === null) {
    if (schema.type === 'null') return;
    if (!schema.optional && !schema.alias) addError(errors, path, 'property is missing and it is not optional');
    return;
  }
  if (!checkType(path, schema.type, value, errors)) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((el, i) => checkProp(el, schema.items as ParamSchema, `${path}[${i}]`, errors));
    return;
  }
  if (typeof value === 'object' && !(typeof value === 'boolean')) {
    if (schema.properties || schema.additionalProperties)
      checkObject(path, schema.properties ?? {}, value as Record<string, unknown>, schema.additionalProperties, errors);
    return;
  }
  if (typeof value === 'boolean') return;
  const text = scalarText(value);
  if (schema.format) {
    try {
      checkFormat(schema.format, text, path);
    } catch (err) {
      const msg = err instanceof FormatError ? err.render() : (err as Error).message;
      addError(errors, path, `invalid format - ${msg}`);
      return;
    }
  }
  if (schema.pattern && !anchored(schema.pattern).test(text)) {
    addError(errors, path, 'value does not match the regex pattern');
    return;
  }
  if (schema.maxLength !== undefined && [...text].length > Number(schema.maxLength)) {
    addError(errors, path, `value may only be ${schema.maxLength} characters long`);
    return;
  }
  if (schema.minLength !== undefined && [...text].length < Number(schema.minLength)) {
    addError(errors, path, `value must be at least ${schema.minLength} characters long`);
    return;
  }
  if (isNumber(text)) {
    if (schema.maximum !== undefined && Number(text) > Number(schema.maximum)) {
      addError(errors, path, `value must have a maximum value of ${schema.maximum}`);
      return;
    }
    if (schema.minimum !== undefined && Number(text) < Number(schema.minimum)) {
      addError(errors, path, `value must have a minimum value of ${schema.minimum}`);
      return;
    }
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(text)) {
    addError(errors, path, `value '${text}' does not have a value in the enumeration '${schema.enum.join(', ')}'`);
  }
}

function checkObject(
  path: string,
  props: Record<string, ParamSchema>,
  value: Record<string, unknown>,
  additional: ParamSchema['additionalProperties'],
  errors: ParamErrors,
): void {
  const join = (k: string): string => (path ? `${path}.${k}` : k);
  // Declared keys first (missing/invalid), then the given keys (requires/unknown).
  for (const [k, schema] of Object.entries(props)) {
    if (k.endsWith('[n]')) continue;
    checkProp(value[k], schema, join(k), errors);
  }
  for (const k of Object.keys(value)) {
    const schema = props[k] ?? lookupFamily(props, k);
    if (schema) {
      if (!props[k]) checkProp(value[k], schema, join(k), errors);
      if (typeof schema.requires === 'string' && (value[schema.requires] === undefined || value[schema.requires] === null)) {
        addError(errors, join(schema.requires), `missing property - '${join(k)}' requires this property`);
      }
      continue;
    }
    if (additional !== undefined && !additional) {
      addError(errors, join(k), 'property is not defined in schema and the schema does not allow additional properties');
      continue;
    }
    if (typeof additional === 'object') checkProp(value[k], additional, join(k), errors);
  }
}

function lookupFamily(props: Record<string, ParamSchema>, key: string): ParamSchema | undefined {
  return /\d$/.test(key) ? lookupProperty(props, key) : undefined;
}

/** Validates request parameters against an endpoint's parameter schema. */
export function validateParams(schema: ParamSchema, params: Record<string, unknown>): ParamErrors {
  const errors: ParamErrors = {};
  checkObject('', schema.properties ?? {}, params, schema.additionalProperties ?? 0, errors);
  return errors;
}

/**
 * RESTHandler's legacy normalisation before validation: arrays given for
 * `*-list` string parameters are joined with commas, scalars for `array`
 * parameters are wrapped.
 */
export function normaliseParams(schema: ParamSchema, params: Record<string, unknown>): Record<string, unknown> {
  const props = schema.properties ?? {};
  const out: Record<string, unknown> = { ...params };
  for (const [k, v] of Object.entries(out)) {
    const p = lookupProperty(props, k);
    if (!p) continue;
    if (Array.isArray(v) && p.type === 'string' && typeof p.format === 'string' && /-a?list$/.test(p.format)) out[k] = v.join(',');
    else if (!Array.isArray(v) && v !== undefined && p.type === 'array') out[k] = [v];
  }
  return out;
}
