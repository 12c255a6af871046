import type { LayerContract } from '@ahl/core';
import { systemDigest } from './digest.js';
import { renderInventory } from './inventory.js';
import { convergeSystem, type ConvergeOptions, type ConvergeResult } from './runner.js';
import { systemHosts } from './targets.js';

/** L3 as the layer contract: the OS of every host with a system section, through Ansible. */
export const layer: LayerContract<ConvergeOptions, ConvergeResult> = {
  id: 'L3',
  name: 'system',
  engine: 'Ansible',
  hosts: systemHosts,
  render: (lab) => ({ files: renderInventory(lab) }),
  intentDigest: systemDigest,
  run: convergeSystem,
};
