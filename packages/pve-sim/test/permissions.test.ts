import { describe, expect, it } from 'vitest';
import { hasPrivs, parseAuthId, privilegeMemo, type PermissionContext } from '../src/auth/permissions.js';
import { buildState } from '../src/index.js';

// privilegeMemo (listings check VM.Audit on every guest) must agree with hasPrivs on every path.

describe('privilegeMemo', () => {
  const state = buildState(
    {
      pools: [{ id: 'web' }, { id: 'db' }],
      users: [
        { id: 'ops@pve', tokens: [{ id: 'ci', secret: 's', privsep: true }, { id: 'all', secret: 't', privsep: false }] },
        { id: 'dev@pve', groups: ['devs'] },
      ],
      acl: [
        { path: '/vms', roles: ['PVEAuditor'], users: ['ops@pve'], propagate: true },
        { path: '/vms', roles: ['PVEVMUser'], tokens: ['ops@pve!ci'] },
        { path: '/vms/103', roles: ['NoAccess'], tokens: ['ops@pve!ci'] },
        { path: '/vms/104', roles: ['PVEVMAdmin'], users: ['ops@pve'], propagate: false },
        { path: '/pool/web', roles: ['PVEVMAdmin'], groups: ['devs'] },
        { path: '/pool/db', roles: ['PVEAuditor'], users: ['dev@pve'] },
      ],
      guests: [100, 101, 102, 103, 104, 105, 106, 107].map((vmid) => ({ vmid, ...(vmid % 3 === 1 ? { pool: 'web' } : vmid % 3 === 2 ? { pool: 'db' } : {}) })),
    },
    0,
  );
  const ctx: PermissionContext = { access: state.access, vmPool: (vmid) => state.guests[String(vmid)]?.pool };

  it('agrees with hasPrivs for users, privsep and full tokens, pools, NoAccess and non-propagating entries', () => {
    const checks: [string, string[], boolean][] = [
      ['VM.Audit', ['VM.Audit'], false],
      ['VM.PowerMgmt', ['VM.PowerMgmt'], false],
      ['Config any', ['VM.Config.Disk', 'VM.Allocate'], true],
    ];
    let compared = 0;
    for (const id of ['ops@pve', 'ops@pve!ci', 'ops@pve!all', 'dev@pve', 'root@pam', 'nobody@pve']) {
      const auth = parseAuthId(id);
      const can = privilegeMemo(ctx, auth);
      for (let round = 0; round < 2; round++) {
        for (const vmid of [100, 101, 102, 103, 104, 105, 106, 107, 999]) {
          for (const [, privs, any] of checks) {
            expect(can(`/vms/${vmid}`, privs, any), `${id} /vms/${vmid} ${privs.join('|')}`).toBe(hasPrivs(ctx, auth, `/vms/${vmid}`, privs, any));
            compared++;
          }
        }
        for (const path of ['/', '/vms', '/pool/web', '/storage/local']) expect(can(path, ['VM.Audit'])).toBe(hasPrivs(ctx, auth, path, ['VM.Audit']));
      }
    }
    expect(compared).toBe(6 * 2 * 9 * 3);
    // The cases are not all alike: some guests are visible and some not.
    const ci = privilegeMemo(ctx, parseAuthId('ops@pve!ci'));
    expect([100, 103].map((v) => ci(`/vms/${v}`, ['VM.Audit']))).toEqual([true, false]);
    // 100 is in pool web (PVEVMAdmin for the devs group), 101 in db (auditor only), 102 in none.
    const dev = privilegeMemo(ctx, parseAuthId('dev@pve'));
    expect([100, 101, 102].map((v) => dev(`/vms/${v}`, ['VM.PowerMgmt']))).toEqual([true, false, false]);
  });
});
