/** What this layer is; its renderer and runner land with the issue "L2 instantiate: Terraform with the real bpg/proxmox provider". */
export const layer = {
  id: 'L2',
  name: 'instantiate',
  engine: 'Terraform or OpenTofu with the bpg/proxmox provider',
} as const;
