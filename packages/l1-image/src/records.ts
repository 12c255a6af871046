import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { artifactsDir, channelsFile, recordJson, type Channels, type TemplateManifest } from '@ahl/core';

export async function writeManifest(root: string, m: TemplateManifest): Promise<string> {
  const file = join(artifactsDir(root, m.image), `${m.version}.json`);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, recordJson(m));
  return file;
}

export async function writeChannels(root: string, image: string, c: Channels): Promise<string> {
  const file = channelsFile(root, image);
  await mkdir(dirname(file), { recursive: true });
  const sorted = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeFile(file, recordJson({ channels: sorted(c.channels), history: sorted(c.history) }));
  return file;
}
