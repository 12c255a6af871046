import type { LayerContract, NodeShell, ProxmoxClient } from '@ahl/core';
import type { RunwayReport } from './checks.js';
import { runRunway } from './run.js';

/** L0 as the layer contract: read-only checks of every host's node, storage and template; it renders nothing. */
export const layer: LayerContract<{ readonly client: ProxmoxClient; readonly shell?: (node: string) => NodeShell }, RunwayReport & { readonly calls: number }> = {
  id: 'L0',
  name: 'runway',
  engine: 'the Proxmox API, read only',
  hosts: (lab) => lab.hosts,
  render: () => ({ files: {} }),
  run: (lab, { client, ...o }) => runRunway(lab, client, o),
};
