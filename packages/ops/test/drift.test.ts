import { describe, expect, it } from 'vitest';
import { buildDrift, planReconcile } from '../src/index.js';

const at = new Date('2026-11-26T10:00:00Z');

describe('drift of passthrough disks (L2)', () => {
  const WD = '/dev/disk/by-id/ata-WDC_WD80EFZZ_WD-1';
  it('says what ahl would attach or set, and what it never touches, each with its cause', () => {
    const r = buildDrift({
      at,
      passthrough: {
        hosts: [
          { host: 'nas-01', state: 'planned', actions: [{ kind: 'update', slot: 'scsi1', device: WD, current: `${WD},backup=1` }, { kind: 'unmanaged', slot: 'scsi3', current: '/dev/sdz,size=1T' }] },
          { host: 'nas-02', state: 'absent', actions: [{ kind: 'add', slot: 'scsi1', device: WD }] },
          { host: 'web-01', state: 'in-sync', actions: [] },
        ],
        intents: new Map([['nas-01', 'p1']]),
      },
      states: new Map([['nas-01', { passthrough: { at: '2026-11-25T00:00:00Z', status: 'ok', changed: [], intent: 'p1' } }]]) as never,
    });
    expect(r.findings).toEqual([
      { layer: 'L2', host: 'nas-01', cause: 'changed outside ahl', what: [`scsi1: ${WD} is attached as ${WD},backup=1`], reconcile: 'ahl passthrough nas-01 --approve' },
      { layer: 'L2', host: 'nas-01', cause: 'changed outside ahl', what: ['scsi3: /dev/sdz,size=1T is attached and not declared'], reconcile: 'by hand on the node (qm set), or declare it in the persona; `ahl passthrough nas-01` shows the VM' },
      { layer: 'L2', host: 'nas-02', cause: 'never converged here', what: ['no VM on the server'], reconcile: 'ahl up nas-02 --approve' },
    ]);
    expect(r.layers[1]).toMatchObject({ layer: 'L2', checked: true, hosts: ['nas-01', 'nas-02', 'web-01'], unchecked: [] });
    expect(r.clean).toBe(false);
    expect(planReconcile(r)).toEqual([
      { layer: 'L2', command: 'up', hosts: ['nas-02'], safe: false, why: 'a VM to create: review `ahl plan HOST`, then `ahl up HOST --approve`' },
      { layer: 'L2', command: 'passthrough', hosts: ['nas-01'], safe: false, why: "a physical disk given to a VM (as root@pam) is the operator's call: review `ahl passthrough HOST`, then --approve" },
    ]);
  });
});
