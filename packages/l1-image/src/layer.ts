import type { LayerContract, ProxmoxClient } from '@ahl/core';
import { buildTemplate, type BuildOptions, type BuildResult } from './build.js';
import { renderNoCloud } from './seed.js';

/** L1 as the layer contract: templates for the hosts to clone (its runner builds one image), and a NoCloud seed per bare-metal host. */
export const layer: LayerContract<BuildOptions & { readonly client: ProxmoxClient; readonly image: string }, BuildResult> = {
  id: 'L1',
  name: 'image',
  engine: 'the Proxmox API',
  hosts: (lab) => lab.hosts,
  render(lab) {
    const files: Record<string, string> = {};
    for (const h of lab.hosts.filter((x) => x.runtime === 'baremetal')) for (const [name, text] of Object.entries(renderNoCloud(lab, h))) files[`seed/${h.name}/${name}`] = text;
    return { files };
  },
  run: (lab, { client, image, ...o }) => buildTemplate(lab, client, image, o),
};
