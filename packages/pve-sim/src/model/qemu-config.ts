import { APIDOC_SUBSET } from '../generated/apidoc-subset.js';
import { parseBoolean, parsePropertyString, lookupProperty } from '../schema/validate.js';
import type { ParamSchema } from '../schema/types.js';
import { createHash } from 'node:crypto';

/** The qemu config option schemas (those of POST /nodes/{node}/qemu). */
export const QEMU_OPTIONS: Record<string, ParamSchema> = APIDOC_SUBSET['POST /nodes/{node}/qemu']!.parameters.properties ?? {};

export const DISK_BUSES = ['ide', 'sata', 'scsi', 'virtio'] as const;
const DRIVE_RE = /^(ide|sata|scsi|virtio)(\d+)$|^(efidisk0|tpmstate0)$/;

export function isDriveKey(key: string): boolean {
  return DRIVE_RE.test(key) && lookupProperty(QEMU_OPTIONS, key) !== undefined;
}

export function optionSchema(key: string): ParamSchema | undefined {
  return lookupProperty(QEMU_OPTIONS, key);
}

function formatOf(key: string): Record<string, ParamSchema> | undefined {
  const f = optionSchema(key)?.format;
  return typeof f === 'object' ? f : undefined;
}

/** Parses a drive/net/… property string of config key `key` (no validation errors swallowed). */
export function parseOption(key: string, value: string): Record<string, string> {
  const format = formatOf(key);
  if (!format) return {};
  return parsePropertyString(format, value, key);
}

/**
 * print_property_string: the default key first without `key=`, then required
 * keys, then optional keys, each group in alphabetical order. `net` prints
 * `model=MAC` first, as PVE's print_net does.
 */
export function printOption(key: string, parsed: Record<string, string>): string {
  const format = formatOf(key) ?? {};
  const parts: string[] = [];
  const done = new Set<string>();
  if (/^net\d+$/.test(key) && parsed.model) {
    parts.push(parsed.macaddr ? `${parsed.model}=${parsed.macaddr}` : parsed.model);
    done.add('model').add('macaddr');
  }
  const keys = Object.keys(parsed).filter((k) => !done.has(k) && parsed[k] !== undefined);
  const defaultKey = keys.find((k) => format[k]?.default_key);
  if (defaultKey) {
    parts.push(parsed[defaultKey]!);
    done.add(defaultKey);
  }
  const rest = keys.filter((k) => !done.has(k));
  const required = rest.filter((k) => format[k] && !format[k]!.optional).sort();
  const optional = rest.filter((k) => !required.includes(k)).sort();
  for (const k of [...required, ...optional]) parts.push(`${k}=${parsed[k]}`);
  return parts.join(',');
}

/** The drive keys of a config, in PVE's bus order. */
export function driveKeys(config: Record<string, string>): string[] {
  const order = (k: string): number => {
    const m = /^(ide|sata|scsi|virtio|efidisk|tpmstate)(\d+)$/.exec(k);
    if (!m) return 1e9;
    const bus = ['ide', 'sata', 'scsi', 'virtio', 'efidisk', 'tpmstate'].indexOf(m[1]!);
    return bus * 1000 + Number(m[2]);
  };
  return Object.keys(config)
    .filter((k) => isDriveKey(k))
    .sort((a, b) => order(a) - order(b));
}

export function isCdrom(value: string): boolean {
  return /(^|,)media=cdrom(,|$)/.test(value) || value === 'cdrom' || value.startsWith('none,') || value === 'none';
}

/** The volume of a drive value (its default key). */
export function driveVolume(value: string): string {
  return value.split(',')[0] ?? '';
}

/** Replaces a property in a property string, keeping PVE's print order. */
export function setOptionField(key: string, value: string, field: string, fieldValue: string | undefined): string {
  const parsed = parseOption(key, value);
  if (fieldValue === undefined) delete parsed[field];
  else parsed[field] = fieldValue;
  return printOption(key, parsed);
}

/**
 * The config file text (write_vm_config layout: description as `#` lines,
 * sorted `key: value` lines, then a `[PENDING]` section). Its SHA-1 is the digest.
 */
export function renderConfigFile(config: Record<string, string>, pending: Record<string, string>, pendingDelete: Record<string, number>): string {
  let text = '';
  if (config.description !== undefined) {
    for (const line of config.description.split('\n')) text += `#${encodeURIComponent(line).replace(/%20/g, ' ')}\n`;
  }
  for (const k of Object.keys(config).sort()) {
    if (k === 'description' || k === 'digest') continue;
    text += `${k}: ${config[k]}\n`;
  }
  const pkeys = Object.keys(pending).sort();
  const dkeys = Object.keys(pendingDelete).sort();
  if (pkeys.length || dkeys.length) {
    text += '\n[PENDING]\n';
    for (const k of pkeys) text += `${k}: ${pending[k]}\n`;
    if (dkeys.length) text += `delete: ${dkeys.map((k) => (pendingDelete[k] === 2 ? `!${k}` : k)).join(',')}\n`;
  }
  return text;
}

export function configDigest(config: Record<string, string>, pending: Record<string, string>, pendingDelete: Record<string, number>): string {
  return createHash('sha1').update(renderConfigFile(config, pending, pendingDelete)).digest('hex');
}

/**
 * A config value typed as PVE's parse_vm_config leaves it: integers and
 * booleans become JSON numbers, everything else (including `number` options
 * such as cpulimit, and `memory`) stays a string.
 */
export function typedValue(key: string, value: string): string | number {
  const schema = optionSchema(key);
  if (!schema) return value;
  if (schema.type === 'integer' && /^[+-]?\d+$/.test(value)) return Number(value);
  if (schema.type === 'boolean') {
    const b = parseBoolean(value);
    if (b !== undefined) return b;
  }
  return value;
}

/** Memory in MiB from the `memory` property string (`[current=]<int>`, default 512). */
export function memoryMiB(config: Record<string, string>): number {
  const v = config.memory;
  if (!v) return 512;
  const m = /(?:^|,)(?:current=)?(\d+)(?:,|$)/.exec(v);
  return m?.[1] ? Number(m[1]) : 512;
}
