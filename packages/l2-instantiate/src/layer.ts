import { sha256, vmHosts, type LayerContract, type Secrets } from '@ahl/core';
import { renderTerraform } from './render.js';
import { runL2, type L2Outcome, type L2RunOptions } from './run.js';

/**
 * L2 as the layer contract: the VMs, as a Terraform module cloned from the templates the channels
 * point at; the per-host intent it records is that of the passthrough disks it puts on a VM.
 */
export const layer: LayerContract<L2RunOptions & { readonly secrets: Secrets }, L2Outcome> = {
  id: 'L2',
  name: 'instantiate',
  engine: 'Terraform or OpenTofu with the bpg/proxmox provider',
  hosts: (lab) => vmHosts(lab),
  render(lab, facts) {
    const m = renderTerraform(lab, facts.templates);
    return { files: m.files, unresolved: m.unresolved };
  },
  intentDigest: async (_lab, host) => sha256(JSON.stringify(host.passthrough)),
  run: (lab, { secrets, ...o }) => runL2(lab, secrets, o),
};
