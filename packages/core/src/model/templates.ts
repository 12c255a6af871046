import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ahlError } from '../errors.js';
import { TEMPLATE_CHANNELS } from './schema.js';

/*
 * What L1 records about built templates, kept in the lab repository for Git:
 *   images/<image>/artifacts/<version>.json   one manifest per built template
 *   images/<image>/channels.json              which version each channel points at, and its history
 * L0 checks the server against them, L1 writes them, L2 clones from them.
 */

export const TemplateManifestSchema = z.strictObject({
  image: z.string(),
  /** UTC build time as YYYYMMDD-HHMMSS; sorts in build order. */
  version: z.string().regex(/^\d{8}-\d{6}$/),
  vmid: z.number().int(),
  node: z.string(),
  storage: z.string(),
  templateName: z.string(),
  source: z.strictObject({
    url: z.string().optional(),
    digest: z.string().optional(),
    capture: z.string().optional(),
  }),
  /** Digest of the image spec the template was built from; a rebuild is skipped when spec and source digests match. */
  specDigest: z.string(),
  toolVersion: z.string(),
  createdAt: z.string(),
});
export type TemplateManifest = z.output<typeof TemplateManifestSchema>;

export const ChannelsSchema = z.strictObject({
  channels: z.partialRecord(z.enum(TEMPLATE_CHANNELS), z.string()).default({}),
  /** Earlier versions of each channel, newest last, for rollback. */
  history: z.partialRecord(z.enum(TEMPLATE_CHANNELS), z.array(z.string())).default({}),
});
export type Channels = z.output<typeof ChannelsSchema>;

export interface ImageRecords {
  readonly image: string;
  /** Every manifest, oldest first. */
  readonly manifests: readonly TemplateManifest[];
  readonly channels: Channels;
}

export const artifactsDir = (root: string, image: string) => join(root, 'images', image, 'artifacts');
export const channelsFile = (root: string, image: string) => join(root, 'images', image, 'channels.json');

/**
 * One record file checked against its schema: RECORD_INVALID when it is not JSON of that shape,
 * FILE_UNREADABLE when it cannot be read; undefined when `optional` and absent.
 */
async function readRecord<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>>;
async function readRecord<S extends z.ZodType>(file: string, schema: S, optional: true): Promise<z.output<S> | undefined>;
async function readRecord<S extends z.ZodType>(file: string, schema: S, optional = false): Promise<z.output<S> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (optional && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ahlError('FILE_UNREADABLE', { path: file, reason: (e as Error).message });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw ahlError('RECORD_INVALID', { file, reason: (e as Error).message });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw ahlError('RECORD_INVALID', { file, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`)[0] ?? 'invalid' });
  return parsed.data;
}

/** Reads an image's manifests and channels; missing files mean nothing was built yet. */
export async function readImageRecords(root: string, image: string): Promise<ImageRecords> {
  let names: string[] = [];
  try {
    names = (await readdir(artifactsDir(root, image))).filter((n) => n.endsWith('.json')).sort();
  } catch {
    names = [];
  }
  const manifests: TemplateManifest[] = [];
  for (const n of names) manifests.push(await readRecord(join(artifactsDir(root, image), n), TemplateManifestSchema));
  const channels: Channels = (await readRecord(channelsFile(root, image), ChannelsSchema, true)) ?? { channels: {}, history: {} };
  return { image, manifests: manifests.sort((a, b) => (a.version < b.version ? -1 : 1)), channels };
}

/** The manifest a channel points at, if any. Pure. */
export function manifestForChannel(records: ImageRecords, channel: string): TemplateManifest | undefined {
  const version = (records.channels.channels as Partial<Record<string, string>>)[channel];
  return version ? records.manifests.find((m) => m.version === version) : undefined;
}

/** Deterministic JSON as written into the repository: 2-space indent, trailing newline. */
export function recordJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
