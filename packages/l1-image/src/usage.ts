import { vmHosts, type Lab } from '@ahl/core';

export interface ImageUsage {
  readonly image: string;
  /** channel → hosts whose persona follows it, sorted. */
  readonly channels: Readonly<Record<string, readonly string[]>>;
}

/** Which VM hosts follow which channel of each declared image (bare metal follows none); images no persona uses have no channels. */
export function imageUsage(lab: Lab): ImageUsage[] {
  return Object.keys(lab.images).map((image) => {
    const channels: Record<string, string[]> = {};
    for (const h of vmHosts(lab)) if (h.template.image === image) (channels[h.template.channel] ??= []).push(h.name);
    for (const hosts of Object.values(channels)) hosts.sort();
    return { image, channels };
  });
}
