import { fileURLToPath } from 'node:url';
import { loadLab } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { imageUsage } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

describe('imageUsage', () => {
  it('lists the hosts following each channel of each image', async () => {
    const { lab } = await loadLab(REPO);
    expect(imageUsage(lab!)).toEqual([
      { image: 'debian-bookworm', channels: { stable: ['devops-01'] } },
      { image: 'haos', channels: { stable: ['homeassistant-01'] } },
      { image: 'truenas', channels: { stable: ['nas-01'] } },
      { image: 'ubuntu-noble', channels: { stable: ['docker-01', 'docker-02', 'docker-03', 'openvpn-01'] } },
    ]);
  });
});
