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
          hosts: ['devops-01', 'docker-01', 'docker-02', 'docker-03', 'homeassistant-01', 'nas-01', 'openvpn-01'],
          passthrough: [
            { host: 'nas-01', slot: 'scsi1', device: '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA1' },
            { host: 'nas-01', slot: 'scsi2', device: '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA2' },
          ],
        },
      ],
      claims: {
        vmids: [301, 302, 303, 320, 340, 350, 360],
        // Bare metal runs on no node, but its name and address are still the lab's.
        names: ['devops-01', 'devops-nuc', 'docker-01', 'docker-02', 'docker-03', 'homeassistant-01', 'nas-01', 'openvpn-01'],
        ips: ['192.168.1.20', '192.168.1.31', '192.168.1.32', '192.168.1.33', '192.168.1.40', '192.168.1.41', '192.168.1.50', '192.168.1.60'],
      },
    });
  });
});
