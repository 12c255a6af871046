import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLab } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { localBridges, localOverlay, localSeed } from '../src/index.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const LOCAL_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHQ3ldWq0lnJ4GkVzSb6z0Yb7l1xq5mU8Kxg0Zc4t4Ne ahl-local-lab';

describe('the local lab for the example lab', () => {
  it('simulates its node, storage roles and bridge, with a token for ahl', async () => {
    const { lab } = await loadLab(REPO);
    const seed = localSeed(lab!, 'secret-uuid');
    expect(seed.nodes).toEqual([{ name: 'pve1', bridges: [{ iface: 'vmbr0' }] }]);
    expect(seed.storages).toEqual([
      { id: 'local', type: 'dir', path: '/var/lib/ahl/local', content: ['backup', 'import', 'iso', 'snippets', 'vztmpl'], size: 2000, format: 'qcow2' },
      { id: 'local-lvm', type: 'dir', path: '/var/lib/ahl/local-lvm', content: ['images'], size: 2000, format: 'qcow2' },
    ]);
    expect(seed.users).toEqual([{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: 'secret-uuid', privsep: false }] }]);
    expect(seed.dns?.nameservers).toEqual(['192.168.1.1', '1.1.1.1']);
  });

  it('puts the hosts\' gateway on the bridge inside the namespace', async () => {
    const { lab } = await loadLab(REPO);
    expect(localBridges(lab!)).toEqual([{ name: 'vmbr0', address: '192.168.1.1/24' }]);
  });

  it('writes lab.local.yaml with the endpoint, the pin, the token file and local image sources', async () => {
    const { lab } = await loadLab(REPO);
    const text = localOverlay(lab!, {
      endpoint: 'https://127.0.0.1:8006',
      fingerprint: 'AB:CD',
      tokenFile: '.ahl/lab/token',
      imageUrl: 'http://127.0.0.1:9/i.qcow2',
      imageUrls: { ubuntu: 'http://127.0.0.1:9/u.qcow2' },
      sumsUrl: 'http://127.0.0.1:9/SHA256SUMS',
      namespace: 'ahl-lab-x1',
      aptProxy: 'http://192.168.1.1:3142',
      key: { file: '.ahl/lab/id_ed25519', publicKey: LOCAL_KEY },
    });
    expect(text).toContain('  endpoint: https://127.0.0.1:8006\n  tokenId: ahl@pve!ahl\n  tokenSecret: file:.ahl/lab/token\n  tls:\n    fingerprint: "AB:CD"\n');
    expect(text).toContain('  debian-bookworm:\n    source:\n      url: http://127.0.0.1:9/i.qcow2\n      checksumUrl: http://127.0.0.1:9/SHA256SUMS\n');
    // The Ubuntu templates get the Ubuntu image; the others the Debian one.
    expect(text).toContain('  ubuntu-noble:\n    source:\n      url: http://127.0.0.1:9/u.qcow2\n      checksumUrl: http://127.0.0.1:9/SHA256SUMS\n');
    expect(text).not.toContain('haos:');
    // Laid over the example lab, it validates and says how to reach the guests, nodes and mirrors.
    const dir = mkdtempSync(join(tmpdir(), 'ahl-overlay-'));
    for (const entry of ['lab.yaml', 'images', 'personas', 'stacks', 'roles', 'tasks']) cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
    writeFileSync(join(dir, 'lab.local.yaml'), text.replace('"AB:CD"', `"${Array(32).fill('AB').join(':')}"`));
    const local = await loadLab(dir);
    expect(local.errors).toEqual([]);
    expect(local.lab!.config.ssh).toMatchObject({ netns: 'ahl-lab-x1', knownHostsFile: '.ahl/lab/known_hosts', privateKey: '.ahl/lab/id_ed25519' });
    // The guests trust the local lab's key beside the example's (whose private half is nowhere here),
    // for cloud-init's user and for the persona users whose keys L3 makes exact.
    const example = lab!.config.cloudInit.sshKeys[0]!;
    expect(local.lab!.config.cloudInit.sshKeys).toEqual([example, LOCAL_KEY]);
    expect(local.lab!.personas.devops!.system!.users.find((u) => u.name === 'lab')!.sshKeys).toEqual([example, LOCAL_KEY]);
    expect(local.lab!.config.nodes.pve1!.ssh).toBe('local');
    expect(local.lab!.personas.docker!.system!.aptProxy).toBe('http://192.168.1.1:3142');
    // Docker's own repository is out of the proxy's reach: the docker persona installs docker.io here.
    expect(lab!.personas.docker!.system!.containerEngine).toEqual({ kind: 'docker', source: 'upstream' });
    expect(local.lab!.personas.docker!.system!.containerEngine).toEqual({ kind: 'docker', source: 'distro' });
    rmSync(dir, { recursive: true, force: true });
  });
});
