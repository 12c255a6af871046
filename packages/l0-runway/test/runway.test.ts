import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeShell } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { renderRunway, runRunway, runwayArtifact, type RunwayReport } from '../src/index.js';
import { AUDIT_SECRET, fixture, seed } from './fixture.js';

const byId = (r: RunwayReport, id: string) => r.checks.find((c) => c.id === id);

async function runway(opts: Parameters<typeof fixture>[0] = {}) {
  const f = await fixture(opts);
  try {
    return await runRunway(f.lab, f.client);
  } finally {
    await f.close();
  }
}

describe('runway against pve-sim', () => {
  it('passes a ready site, warning only that no template is promoted yet', async () => {
    const r = await runway();
    expect(r.checks.map((c) => `${c.status} ${c.id}`)).toEqual([
      'PASS endpoint',
      'PASS token',
      'PASS version',
      'PASS privileges',
      'PASS node:pve1',
      'PASS bridge:pve1/vmbr0',
      'PASS storage:pve1/local',
      'PASS storage:pve1/local-lvm',
      'WARN template:ubuntu-noble@stable',
      'PASS conflicts',
    ]);
    expect(r.status).toBe('WARN');
    expect(byId(r, 'storage:pve1/local')?.reason).toMatch(/^local \(import, snippets\): \d+\.\d GiB free, \d+%$/);
  });

  it('passes the template check when the promoted manifest matches the server', async () => {
    const r = await runway({
      seed: seed({ guests: [{ vmid: 9000, node: 'pve1', name: 'ubuntu-noble-20261126-010203', template: true, config: { memory: '2048', scsi0: 'local-lvm:base-9000-disk-0,size=4G' } }] }),
      edit: (files) => {
        files['images/ubuntu-noble/channels.json'] = JSON.stringify({ channels: { stable: '20261126-010203' }, history: {} });
        files['images/ubuntu-noble/artifacts/20261126-010203.json'] = JSON.stringify({
          image: 'ubuntu-noble', version: '20261126-010203', vmid: 9000, node: 'pve1', storage: 'local-lvm', templateName: 'ubuntu-noble-20261126-010203',
          source: { url: 'https://images.test/noble.img', digest: 'sha256:00' }, specDigest: 'x', toolVersion: '0.0.0', createdAt: '2026-11-26T01:02:03Z',
        });
      },
    });
    expect(byId(r, 'template:ubuntu-noble@stable')).toEqual({ id: 'template:ubuntu-noble@stable', status: 'PASS', reason: 'ubuntu-noble-20261126-010203 (vmid 9000) on pve1' });
    expect(r.status).toBe('PASS');
  });

  it('lists every missing privilege with its path and prints the minimal role', async () => {
    const r = await runway({ tokenId: 'ahl@pve!audit', secret: AUDIT_SECRET });
    const check = byId(r, 'privileges')!;
    expect(check.status).toBe('FAIL');
    expect(r.missingPrivileges).toContainEqual({ layer: 'L2', path: '/vms', privilege: 'VM.Clone', why: 'clone, configure, start and read VMs' });
    expect(r.missingPrivileges).toContainEqual({ layer: 'L2', path: '/sdn/zones/localnetwork/vmbr0', privilege: 'SDN.Use', why: 'attach NICs to vmbr0' });
    expect(r.missingPrivileges).toContainEqual({ layer: 'L2', path: '/storage/local-lvm', privilege: 'Datastore.AllocateSpace', why: 'allocate VM disks on local-lvm' });
    expect(r.missingPrivileges.some((m) => m.privilege === 'Sys.Audit')).toBe(false);
    expect(r.minimalRole?.commands[0]).toMatch(/^pveum role add AhlLab -privs ".*VM\.Clone.*"$/);
    expect(r.minimalRole?.commands[1]).toBe("pveum acl modify / -token 'ahl@pve!audit' -role AhlLab");
    expect(r.status).toBe('FAIL');
  });

  it('fails TLS on a fingerprint mismatch, naming both fingerprints, before sending the token', async () => {
    const wrong = Array.from({ length: 32 }, () => 'AB').join(':');
    const f = await fixture({ https: true, fingerprint: wrong });
    try {
      const requests = () => Object.values(f.sim.stats.snapshot()).reduce((n, s) => n + s.count, 0);
      const r = await runRunway(f.lab, f.client);
      const tls = byId(r, 'tls')!;
      expect(tls.status).toBe('FAIL');
      expect(tls.reason).toBe(`the server's certificate ${f.sim.fingerprint} is not the pinned ${wrong}`);
      expect(r.checks).toHaveLength(1);
      expect(requests()).toBe(0);
    } finally {
      await f.close();
    }
  });

  it('passes TLS with the right pin, and fails an unpinned self-signed certificate', async () => {
    const ok = await runway({ https: true });
    expect(byId(ok, 'endpoint')?.status).toBe('PASS');
    const f = await fixture({ https: true, edit: (files) => (files['lab.yaml'] = files['lab.yaml']!.replace(/  tls:\n    fingerprint: .*\n/, '')) });
    try {
      const r = await runRunway(f.lab, f.client);
      expect(byId(r, 'tls')).toMatchObject({ status: 'FAIL' });
      expect(byId(r, 'tls')!.reason).toMatch(/^TLS verification failed: /);
    } finally {
      await f.close();
    }
  });

  it("the client's typed proxmox-api paths go through the same pinned transport, counted", async () => {
    const f = await fixture({ https: true });
    try {
      const nodes = await f.client.api.nodes.$get();
      expect(nodes.map((n) => n.node)).toContain('pve1');
      expect(f.client.calls.get('GET /nodes')).toBe(1);
    } finally {
      await f.close();
    }
  });

  it('reports a refused token', async () => {
    const r = await runway({ secret: '00000000-0000-4000-8000-000000000000' });
    expect(r.checks).toEqual([expect.objectContaining({ id: 'token', status: 'FAIL' })]);
    expect(JSON.stringify(r)).not.toContain('00000000-0000-4000-8000-000000000000');
  });

  it('reports an unreachable endpoint', async () => {
    const f = await fixture();
    await f.sim.stop();
    try {
      const r = await runRunway(f.lab, f.client);
      expect(r.checks).toEqual([expect.objectContaining({ id: 'endpoint', status: 'FAIL' })]);
      expect(r.checks[0]!.reason).toMatch(/is not reachable: ECONNREFUSED/);
    } finally {
      await f.client.close();
    }
  });

  it('fails a storage below the free-space threshold and one lacking a content type', async () => {
    const s = seed();
    s.storages = [
      { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'backup', 'snippets'], size: 5 },
      { id: 'local-lvm', type: 'lvmthin', content: ['images'], size: 10 },
    ];
    s.files = [{ volid: 'local:iso/big.iso', size: '2G' }];
    s.guests = [{ vmid: 500, node: 'pve1', name: 'fat', config: { scsi0: 'local-lvm:vm-500-disk-0,size=9728M', tags: 'other' } }];
    const r = await runway({ seed: s });
    expect(byId(r, 'storage:pve1/local')).toMatchObject({ status: 'FAIL', reason: 'local lacks the content type import (has backup, iso, snippets)' });
    expect(byId(r, 'storage:pve1/local-lvm')).toMatchObject({ status: 'FAIL', reason: 'local-lvm is 5.0% free, below 10%' });
  });

  it('fails an offline node and a missing bridge', async () => {
    const s = seed();
    s.nodes = [{ name: 'pve1', ip: '10.0.0.2', bridges: [{ iface: 'vmbr1', cidr: '10.0.0.2/24' }] }, { name: 'pve2', online: false }];
    const r = await runway({
      seed: s,
      edit: (files) => {
        files['lab.yaml'] = files['lab.yaml']!.replace('  pve1: {}', '  pve1: {}\n  pve2: {}');
        files['personas/docker.yaml'] = files['personas/docker.yaml']!.replace('docker-02: {node: pve1', 'docker-02: {node: pve2');
      },
    });
    expect(byId(r, 'bridge:pve1/vmbr0')).toMatchObject({ status: 'FAIL', reason: 'vmbr0 does not exist on pve1' });
    expect(byId(r, 'node:pve2')).toMatchObject({ status: 'FAIL', reason: 'pve2 is offline' });
  });

  it('finds passthrough disks on the node by id, and says root@pam is needed to attach them', async () => {
    const s = seed();
    s.nodes = [
      {
        ...s.nodes![0]!,
        disks: [
          { devpath: '/dev/nvme0n1', size: 1000, model: 'Samsung SSD 980 PRO 1TB', serial: 'S5GXNF0R100001', used: 'LVM' },
          { devpath: '/dev/sdb', size: '7452G', model: 'WDC WD80EFZZ-68BTXN0', serial: 'WD-CA0AAAA1' },
          { devpath: '/dev/sdc', size: '7452G', model: 'WDC WD80EFZZ-68BTXN0', serial: 'WD-CA0AAAA2', wwn: '0x50014ee2b0000002' },
        ],
      },
    ];
    const disks = [
      '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA1',
      '/dev/disk/by-id/wwn-0x50014ee2b0000002',
      '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-GONE0001',
      '/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0R100001',
    ];
    const r = await runway({
      seed: s,
      edit: (files) => {
        files['personas/docker.yaml'] = files['personas/docker.yaml']!.replace(
          'docker-02: {node: pve1, ip: 10.0.0.32/24, gateway: 10.0.0.1, vmid: 302}',
          `docker-02:\n    node: pve1\n    ip: 10.0.0.32/24\n    gateway: 10.0.0.1\n    vmid: 302\n    passthrough:\n${disks.map((d, i) => `      - {slot: scsi${i + 1}, device: ${d}}`).join('\n')}`,
        );
      },
    });
    expect(r.checks.filter((c) => c.id.startsWith('disk:') || c.id.startsWith('passthrough')).map((c) => [c.status, c.id, c.reason])).toEqual([
      ['PASS', 'disk:pve1/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA1', '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-CA0AAAA1 is /dev/sdb on pve1 (WDC WD80EFZZ-68BTXN0, 7452 GiB) for docker-02 scsi1'],
      ['FAIL', 'disk:pve1/ata-WDC_WD80EFZZ-68BTXN0_WD-GONE0001', '/dev/disk/by-id/ata-WDC_WD80EFZZ-68BTXN0_WD-GONE0001 (docker-02 scsi3) is not a disk of pve1'],
      ['FAIL', 'disk:pve1/nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0R100001', '/dev/disk/by-id/nvme-Samsung_SSD_980_PRO_1TB_S5GXNF0R100001 is /dev/nvme0n1, which pve1 itself uses (LVM)'],
      ['PASS', 'disk:pve1/wwn-0x50014ee2b0000002', '/dev/disk/by-id/wwn-0x50014ee2b0000002 is /dev/sdc on pve1 (WDC WD80EFZZ-68BTXN0, 7452 GiB) for docker-02 scsi2'],
      ['WARN', 'passthrough:root', 'attaching passthrough disks (docker-02) needs root@pam, and no proxmox.rootPassword is set'],
    ]);
  });

  it('asks the node shell of an appliance node, when captures go to the store, and says what a capture would lack', async () => {
    const edit = (files: Record<string, string>) => {
      files['lab.yaml'] += 'captureStore: {bucket: caps, accessKeyId: env:K, secretAccessKey: env:S}\n';
      files['images/haos.yaml'] = 'kind: appliance\nos: {family: haos, release: "16"}\nsource: {capture: haos}\ntemplate: {node: pve1, storage: local-lvm, vmid: 9200}\n';
      files['personas/haos.yaml'] = 'kind: appliance\ntemplate: haos@stable\nhosts:\n  ha-01: {node: pve1, vmid: 350}\n';
    };
    const f = await fixture({ edit });
    try {
      const asked: string[] = [];
      const shell = (answer: () => Promise<string>) => (node: string): NodeShell => {
        asked.push(node);
        return { node, where: `root@${node}`, run: answer, stream: () => Promise.reject(new Error('not used')) };
      };
      const check = async (answer: () => Promise<string>) => byId(await runRunway(f.lab, f.client, { shell: shell(answer) }), 'shell:pve1');
      expect(await check(async () => 'root\n/usr/bin/qemu-img')).toEqual({ id: 'shell:pve1', status: 'PASS', reason: 'root@pve1 answers as root and has qemu-img, for captures to the store' });
      expect(await check(async () => 'backup\n/usr/bin/qemu-img')).toMatchObject({ status: 'WARN', reason: 'root@pve1 answers as backup, who may not read VM disks (a capture to the store reads them)' });
      expect(await check(async () => 'root\n')).toMatchObject({ status: 'WARN', reason: 'root@pve1 has no qemu-img on its PATH, which a capture to the store runs' });
      const down = await check(() => Promise.reject(new Error('ssh: connect to host pve1 port 22: Connection refused')));
      expect(down).toMatchObject({ status: 'WARN', reason: "pve1's shell (root@pve1) cannot be used, so `ahl image capture --to store` will fail: ssh: connect to host pve1 port 22: Connection refused" });
      expect(down?.hint).toBe("set nodes.pve1.ssh in lab.yaml ([USER@]HOST[:PORT]) and authorise ssh.privateKey's public key for that user on pve1");
      expect(asked).toEqual(['pve1', 'pve1', 'pve1', 'pve1']);
      // The real thing, on this machine as the local lab does it (nodes.pve1.ssh: local).
      const local = await runRunway({ ...f.lab, config: { ...f.lab.config, nodes: { pve1: { ssh: 'local' } } } }, f.client);
      expect(byId(local, 'shell:pve1')?.reason).toMatch(/^this machine (answers as root and has qemu-img|has no qemu-img|answers as )/);
    } finally {
      await f.close();
    }
    // No captureStore, no question: a lab that never captures to the store needs no node shell.
    const plain = await runway();
    expect(plain.checks.filter((c) => c.id.startsWith('shell:'))).toEqual([]);
  });

  it('finds vmid, name and address conflicts with unmanaged guests', async () => {
    const r = await runway({
      seed: seed({
        guests: [
          { vmid: 301, node: 'pve1', name: 'legacy', config: { memory: '512' } },
          { vmid: 400, node: 'pve1', name: 'docker-02', config: { memory: '512' } },
          { vmid: 401, node: 'pve1', name: 'old-web', config: { memory: '512', ipconfig0: 'ip=10.0.0.31/24,gw=10.0.0.1' } },
          { vmid: 302, node: 'pve1', name: 'docker-02-managed', config: { memory: '512', tags: 'ahl;docker' } },
        ],
      }),
    });
    const conflicts = r.checks.filter((c) => c.id.startsWith('conflict:')).map((c) => `${c.id}: ${c.reason}`);
    expect(conflicts).toEqual([
      'conflict:vmid:301: vmid 301 of docker-01 is taken by guest legacy on pve1',
      'conflict:ip:10.0.0.31: 10.0.0.31 of docker-01 is configured on unmanaged guest 401',
      'conflict:vmid:302: vmid 302 of docker-02 is taken by guest docker-02-managed on pve1',
      'conflict:name:docker-02: an unmanaged guest 400 on pve1 is already named docker-02',
    ]);
  });

  it('makes a constant number of API calls whatever the number of managed guests', async () => {
    const guests = (n: number) => Array.from({ length: n }, (_, i) => ({ vmid: 1000 + i, node: 'pve1', name: `g${i}`, config: { memory: '512', tags: 'ahl' } }));
    const small = await runway({ seed: seed({ guests: guests(2) }) });
    const big = await runway({ seed: seed({ guests: guests(200) }) });
    expect(big.calls).toBe(small.calls);
    expect(big.calls).toBeLessThanOrEqual(6);
  });

  it('renders a table and a deterministic JSON artifact', async () => {
    const r = await runway();
    const text = renderRunway(r);
    expect(text.split('\n')[0]).toMatch(/^runway runway-test → http:\/\/127\.0\.0\.1:\d+$/);
    expect(text).toContain('WARN  template:ubuntu-noble@stable  no template is promoted to stable for ubuntu-noble yet');
    expect(text.trimEnd().split('\n').pop()).toBe('WARN 9 passed, 1 warning, 0 failed');
    const again = await runway();
    const portless = (t: string) => t.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT');
    expect(portless(runwayArtifact(again))).toBe(portless(runwayArtifact(r)));
    expect(JSON.parse(runwayArtifact(r))).not.toHaveProperty('calls');
  });
});
