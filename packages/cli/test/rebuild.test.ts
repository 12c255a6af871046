import { describe, expect, it } from 'vitest';
import { planRebuild, renderRebuildPlan } from '../src/workflows/rebuild.js';

describe('planRebuild', () => {
  const base = { host: 'app-01', vm: { vmid: 301, node: 'pve1', power: 'running' }, template: { ref: 'deb@stable', version: '20261120-000000' } };

  it('takes a backup first when the last one is stale, then recreates, converges, restores and deploys', () => {
    const p = planRebuild({ ...base, data: { kind: 'take', why: 'the last good one is 3 days old; maxAge 26h', paths: ['/srv/app'] } });
    expect(renderRebuildPlan(p, false)).toBe(
      [
        'ahl rebuild app-01',
        '  1. backup   back up /srv/app now (the last good one is 3 days old; maxAge 26h)',
        '  2. recreate destroy vmid 301 on pve1 (running) with its disks, then create it again from deb@stable (20261120-000000)',
        '  3. system   converge the system (L3), once it has booted',
        '  4. restore  restore the backup taken first into /srv/app',
        '  5. workload deploy the stacks (L4) and wait until they are healthy',
        '  the last good backup is not fresh enough (the last good one is 3 days old; maxAge 26h): one is taken before anything is destroyed',
        '',
      ].join('\n'),
    );
  });

  it('has no backup or restore for a host without data, and marks what a resumed rebuild already did', () => {
    const p = planRebuild({ ...base, data: { kind: 'none' }, record: { host: 'app-01', startedAt: '2026-11-26T10:00:00Z', template: '20261120-000000', done: ['recreate'] } });
    expect(p.phases.map((x) => [x.phase, x.done])).toEqual([
      ['recreate', true],
      ['system', false],
      ['workload', false],
    ]);
    expect(renderRebuildPlan(p, true).split('\n').slice(0, 2)).toEqual(['ahl rebuild app-01 (resuming)', '  ✓ recreate destroy vmid 301 on pve1 (running) with its disks, then create it again from deb@stable (20261120-000000) (done)']);
  });
});
