import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { waitForTask } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { buildTemplate, planPrune, promote, prune, templateTag } from '../src/index.js';
import { fixture, imageServer, simSeed } from './fixture.js';

const wait = { initialDelayMs: 5, maxDelayMs: 20 };

describe('image prune', () => {
  // On ZFS (and directory storage) a linked clone's volume lives on its template's base volume;
  // on LVM-thin it is an independent thin snapshot, so only the clone's tag ties it to the template.
  it('removes only old templates on no channel and used by no VM; a linked clone keeps its base', async () => {
    const images = await imageServer();
    const f = await fixture({ url: images.url, checksum: images.digest }, simSeed(), 'tank');
    try {
      for (const [i, t] of ['2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z', '2026-11-03T00:00:00Z', '2026-11-04T00:00:00Z'].entries())
        expect((await buildTemplate(f.lab, f.client, 'ubuntu-noble', { now: () => new Date(t), wait, force: i > 0 })).outcome).toBe('built');
      await promote(f.lab, 'ubuntu-noble', '20261104-000000');
      // A linked clone of the first template (vmid 9000).
      const upid = await f.client.request<string>('POST', '/nodes/pve1/qemu/9000/clone', { newid: 301, name: 'docker-01', full: 0 });
      expect((await waitForTask(f.client, upid, wait)).ok).toBe(true);

      const plan = await prune(f.lab, f.client, 'ubuntu-noble', { keep: 0, approve: false });
      expect(plan.decisions.map((d) => `${d.manifest.version} ${d.action}: ${d.reason}`)).toEqual([
        '20261104-000000 keep: on channel stable',
        '20261103-000000 remove: old, on no channel, used by no VM',
        '20261102-000000 remove: old, on no channel, used by no VM',
        '20261101-000000 keep: linked clones use it: docker-01',
      ]);
      expect(plan.removed).toEqual([]);
      expect(existsSync(join(f.dir, 'images/ubuntu-noble/artifacts/20261102-000000.json'))).toBe(true);

      const done = await prune(f.lab, f.client, 'ubuntu-noble', { keep: 2, approve: true });
      expect(done.removed).toEqual([9001]);
      expect(done.decisions.find((d) => d.manifest.version === '20261103-000000')?.reason).toBe('one of the 2 newest');
      expect(existsSync(join(f.dir, 'images/ubuntu-noble/artifacts/20261102-000000.json'))).toBe(false);
      const vmids = (await f.client.request<{ vmid: number }[]>('GET', '/cluster/resources', { type: 'vm' })).map((r) => r.vmid).sort();
      expect(vmids).toEqual([301, 9000, 9002, 9003]);
    } finally {
      await f.close();
      await images.close();
    }
  });

  it('keeps a template that a full clone names in its tags', () => {
    const m = { image: 'x', version: '20260101-000000', vmid: 9000, node: 'pve1', storage: 's', templateName: 'x-20260101-000000', source: {}, specDigest: 'd', toolVersion: '0', createdAt: '' };
    expect(planPrune([m], {}, [{ vmid: 5, name: 'web', tags: ['ahl', templateTag(m)], disks: ['local-lvm:vm-5-disk-0'] }], 0)).toEqual([{ manifest: m, action: 'keep', reason: 'cloned by web' }]);
  });
});
