/** What this layer is; its renderer and runner land with the issue "L4 workloads: Compose stacks, their data, backup and restore". */
export const layer = {
  id: 'L4',
  name: 'workload',
  engine: 'Ansible + Docker Compose',
} as const;
