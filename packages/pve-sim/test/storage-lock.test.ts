import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSim, storageLockTimeoutMessage } from '../src/index.js';
import { NODE, raw, testSim, tokenClient, waitTask } from './helpers.js';

// The storage lock model (option `storageLock`): volume allocations on one storage are serialised,
// and a waiter that waits past the timeout fails as PVE's cluster_lock_storage does.

const LOCK_TIMEOUT = "can't lock file '/var/lock/pve-manager/pve-storage-local-lvm' - got timeout";

describe('storage lock model', () => {
  let sim: RunningSim | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('is off by default: parallel full clones all succeed and nothing is counted', async () => {
    sim = await testSim();
    const px = tokenClient(sim);
    const upids = await Promise.all([601, 602, 603, 604].map((newid) => px.nodes.$(NODE).qemu.$(9000).clone.$post({ newid, full: true }) as Promise<string>));
    const st = await Promise.all(upids.map((u) => waitTask(px, u)));
    expect(st.map((s) => s.exitstatus)).toEqual(['OK', 'OK', 'OK', 'OK']);
    expect(sim.storageLocks.enabled).toBe(false);
    expect(sim.storageLocks.snapshot()).toMatchObject({ acquired: 0, waited: 0, timeouts: 0 });
  });

  it('serialises allocations; a clone that waits past the timeout fails with got timeout and leaves nothing behind', async () => {
    // Each full clone of 9000 allocates two volumes (scsi0 and the cloud-init drive): 2 × 200 ms held.
    // Four at once: the 4th clone's first volume would wait 600 ms > 500 ms; the others wait at most 400 ms.
    sim = await testSim({ storageLock: { holdMs: 200, timeoutMs: 500 }, control: true });
    const px = tokenClient(sim);
    const ids = [611, 612, 613, 614];
    const upids: string[] = [];
    for (const newid of ids) upids.push((await px.nodes.$(NODE).qemu.$(9000).clone.$post({ newid, full: true })) as string);
    const st = await Promise.all(upids.map((u) => waitTask(px, u)));
    expect(st.map((s) => s.exitstatus)).toEqual(['OK', 'OK', 'OK', `clone failed: ${LOCK_TIMEOUT}`]);
    const log = (await px.nodes.$(NODE).tasks.$(upids[3]!).log.$get()) as { t: string }[];
    expect(log.at(-1)!.t).toBe(`TASK ERROR: clone failed: ${LOCK_TIMEOUT}`);
    // PVE's clone cleanup: no config, no volume of the failed target.
    expect(sim.state.guests['614']).toBeUndefined();
    expect(sim.state.volumes.filter((v) => v.vmid === 614)).toEqual([]);
    for (const id of [611, 612, 613]) expect(sim.state.volumes.filter((v) => v.vmid === id).map((v) => v.volid).sort()).toEqual([`local-lvm:vm-${id}-cloudinit`, `local-lvm:vm-${id}-disk-0`]);
    const stats = sim.storageLocks.snapshot();
    expect(stats).toMatchObject({ acquired: 6, timeouts: 1, byLock: { 'pve1/local-lvm': { acquired: 6, timeouts: 1 } } });
    expect(stats.waited).toBe(5);
    expect(stats.maxWaitMs).toBeGreaterThanOrEqual(300);
    expect(stats.maxWaitMs).toBeLessThan(500);
    // The retry (bpg's clone.retries) gets the lock once the others are done.
    expect((await waitTask(px, (await px.nodes.$(NODE).qemu.$(9000).clone.$post({ newid: 614, full: true })) as string)).exitstatus).toBe('OK');
    // The control API reports the same counters.
    const headers = { Authorization: `Bearer ${sim.control!.token}` };
    const res = (await (await fetch(`${sim.control!.url}/storage-locks`, { headers })).json()) as { options: unknown; timeouts: number; acquired: number };
    expect(res).toMatchObject({ options: { holdMs: 200, timeoutMs: 500 }, timeouts: 1, acquired: 8 });
    await fetch(`${sim.control!.url}/storage-locks`, { method: 'DELETE', headers });
    expect(sim.storageLocks.snapshot()).toMatchObject({ acquired: 0, timeouts: 0 });
  });

  it('a synchronous PUT config that allocates answers 500 with the text in the status line when the lock is not had in time', async () => {
    sim = await testSim({ storageLock: { holdMs: 0, timeoutMs: 150 } });
    const px = tokenClient(sim);
    await waitTask(px, (await px.nodes.$(NODE).qemu.$(9000).clone.$post({ newid: 621, full: true })) as string);
    const storage = sim.core.storage('local-lvm')!;
    const holder = sim.core.withStorageLock(storage, NODE, () => new Promise<void>((r) => setTimeout(r, 400)));
    const r = await raw(sim, 'PUT', `/nodes/${NODE}/qemu/621/config`, { form: { sata0: 'local-lvm:1' } });
    expect([r.status, r.statusText]).toEqual([500, LOCK_TIMEOUT]);
    expect(sim.state.guests['621']!.config.sata0).toBeUndefined();
    await holder;
    // Free again: the same call allocates.
    expect(await px.nodes.$(NODE).qemu.$(621).config.$put({ sata0: 'local-lvm:1' })).toBeNull();
    expect(sim.state.guests['621']!.config.sata0).toMatch(/^local-lvm:vm-621-disk-1,size=1G/);
    // Another storage has its own lock.
    const other = sim.core.withStorageLock(storage, NODE, () => new Promise<void>((r) => setTimeout(r, 300)));
    expect(await px.nodes.$(NODE).qemu.$(621).config.$put({ sata1: 'tank:1' })).toBeNull();
    await other;
  });

  it('names the cluster lock for shared storage', () => {
    expect(storageLockTimeoutMessage({ storage: 'shared', shared: true } as never)).toBe("cfs-lock 'storage-shared' error: got lock request timeout\n");
    expect(storageLockTimeoutMessage({ storage: 'local-lvm' } as never)).toBe(`${LOCK_TIMEOUT}\n`);
  });
});
