import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
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

/** Reads an image's manifests and channels; missing files mean nothing was built yet. */
export async function readImageRecords(root: string, image: string): Promise<ImageRecords> {
  let names: string[] = [];
  try {
    names = (await readdir(artifactsDir(root, image))).filter((n) => n.endsWith('.json')).sort();
  } catch {
    names = [];
  }
  const manifests: TemplateManifest[] = [];
  for (const n of names) {
    const file = join(artifactsDir(root, image), n);
    const parsed = TemplateManifestSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file}: not a template manifest (${parsed.error.issues[0]?.message ?? 'invalid'})`);
    manifests.push(parsed.data);
  }
  let channels: Channels = { channels: {}, history: {} };
  try {
    channels = ChannelsSchema.parse(JSON.parse(await readFile(channelsFile(root, image), 'utf8')));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${channelsFile(root, image)}: ${(e as Error).message}`);
  }
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
