/** What this layer is; its renderer and runner land with the issue "L3 system convergence with Ansible, tested on real VMs". */
export const layer = {
  id: 'L3',
  name: 'system',
  engine: 'Ansible',
} as const;
