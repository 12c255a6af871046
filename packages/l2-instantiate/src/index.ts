/** What this layer is. Its Terraform renderer and runner land with the issue "L2 instantiate: Terraform with the real bpg/proxmox provider". */
export const layer = {
  id: 'L2',
  name: 'instantiate',
  engine: 'Terraform or OpenTofu with the bpg/proxmox provider',
} as const;

export { parseDrive, passthroughOptions, passthroughValue, planPassthrough, qmSetLine, type PassthroughAction } from './passthrough.js';
export { convergePassthrough, passthroughHosts, type PassthroughHostResult, type PassthroughRun } from './passthrough-run.js';
