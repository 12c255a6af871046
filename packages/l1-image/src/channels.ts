import { readImageRecords, TEMPLATE_CHANNELS, type Channels, type Lab } from '@ahl/core';
import { writeChannels } from './records.js';

export type ChannelChange =
  | { readonly ok: true; readonly image: string; readonly channel: string; readonly from?: string; readonly to: string; readonly lagging: readonly string[]; readonly file: string }
  | { readonly ok: false; readonly image: string; readonly channel: string; readonly reason: string };

/** Moves `channel` to `version`, keeping the previous version in the history. Pure. */
export function promoteChannels(c: Channels, channel: (typeof TEMPLATE_CHANNELS)[number], version: string): Channels {
  const from = c.channels[channel];
  if (from === version) return c;
  return {
    channels: { ...c.channels, [channel]: version },
    history: { ...c.history, [channel]: [...(c.history[channel] ?? []), ...(from ? [from] : [])] },
  };
}

/** Moves `channel` back to its previous version. Pure; undefined when there is none. */
export function rollbackChannels(c: Channels, channel: (typeof TEMPLATE_CHANNELS)[number]): Channels | undefined {
  const past = c.history[channel] ?? [];
  if (!past.length) return undefined;
  return { channels: { ...c.channels, [channel]: past[past.length - 1]! }, history: { ...c.history, [channel]: past.slice(0, -1) } };
}

function asChannel(channel: string): (typeof TEMPLATE_CHANNELS)[number] | undefined {
  return (TEMPLATE_CHANNELS as readonly string[]).includes(channel) ? (channel as (typeof TEMPLATE_CHANNELS)[number]) : undefined;
}

const followers = (lab: Lab, image: string, channel: string) => lab.hosts.filter((h) => h.template.image === image && h.template.channel === channel).map((h) => h.name);

/**
 * Points a channel at a built version. Running VMs are never touched: the hosts following the
 * channel now lag it until they are rebuilt, and the result names them.
 */
export async function promote(lab: Lab, image: string, version: string, channel = 'stable'): Promise<ChannelChange> {
  const ch = asChannel(channel);
  if (!ch) return { ok: false, image, channel, reason: `channel "${channel}" does not exist; use ${TEMPLATE_CHANNELS.join(' or ')}` };
  if (!lab.images[image]) return { ok: false, image, channel, reason: `image "${image}" is not declared` };
  const rec = await readImageRecords(lab.recordsRoot, image);
  if (!rec.manifests.some((m) => m.version === version))
    return { ok: false, image, channel, reason: `no template ${image} ${version} was built (built: ${rec.manifests.map((m) => m.version).join(', ') || 'none'})` };
  const from = rec.channels.channels[ch];
  if (from === version) return { ok: true, image, channel, from, to: version, lagging: [], file: '' };
  const file = await writeChannels(lab.recordsRoot, image, promoteChannels(rec.channels, ch, version));
  return { ok: true, image, channel, ...(from ? { from } : {}), to: version, lagging: followers(lab, image, ch), file };
}

/** Points a channel back at its previous version. */
export async function rollback(lab: Lab, image: string, channel = 'stable'): Promise<ChannelChange> {
  const ch = asChannel(channel);
  if (!ch) return { ok: false, image, channel, reason: `channel "${channel}" does not exist; use ${TEMPLATE_CHANNELS.join(' or ')}` };
  const rec = await readImageRecords(lab.recordsRoot, image);
  const next = rollbackChannels(rec.channels, ch);
  if (!next) return { ok: false, image, channel, reason: `${image}@${channel} has no earlier version to roll back to` };
  const file = await writeChannels(lab.recordsRoot, image, next);
  return { ok: true, image, channel, ...(rec.channels.channels[ch] ? { from: rec.channels.channels[ch] } : {}), to: next.channels[ch]!, lagging: followers(lab, image, ch), file };
}
