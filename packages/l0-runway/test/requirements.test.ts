import { fileURLToPath } from 'node:url';
import { loadLab } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { runwayRequirements } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('runwayRequirements', () => {
  it('derives what the example lab needs from Proxmox', async () => {
    const { lab } = await loadLab(REPO);
    expect(runwayRequirements(lab!)).toEqual({
      nodes: [
        {
          node: 'pve1',
          bridges: ['vmbr0'],
          storages: { local: ['backup', 'import', 'snippets'], 'local-lvm': ['images'] },
          hosts: ['devops-01', 'docker-01', 'docker-02', 'docker-03', 'homeassistant-01', 'openvpn-01'],
        },
      ],
      claims: {
        vmids: [301, 302, 303, 320, 340, 350],
        // Bare metal runs on no node, but its name and address are still the lab's.
        names: ['devops-01', 'devops-nuc', 'docker-01', 'docker-02', 'docker-03', 'homeassistant-01', 'openvpn-01'],
        ips: ['192.168.1.20', '192.168.1.31', '192.168.1.32', '192.168.1.33', '192.168.1.40', '192.168.1.41', '192.168.1.50'],
      },
    });
  });
});
