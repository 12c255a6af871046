import { join } from 'node:path';
import { artifactsDir, channelsFile, recordJson, writeFileAtomic, type Channels, type TemplateManifest } from '@ahl/core';

// Records Git keeps: each replaced whole and durably, so a crash or a power cut mid-build never leaves
// a half-written manifest or channels file in the operator's repository.

export async function writeManifest(root: string, m: TemplateManifest): Promise<string> {
  const file = join(artifactsDir(root, m.image), `${m.version}.json`);
  await writeFileAtomic(file, recordJson(m));
  return file;
}

export async function writeChannels(root: string, image: string, c: Channels): Promise<string> {
  const file = channelsFile(root, image);
  const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeFileAtomic(file, recordJson({ channels: sorted(c.channels), history: sorted(c.history) }));
  return file;
}
