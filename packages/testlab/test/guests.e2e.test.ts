import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, GuestLab, listNamespaces, newRunId, removeStaleNamespaces, ssh, type Guest } from '../src/index.js';

/*
 * Real Debian guests under QEMU on a private bridge in a network namespace: build (or reuse) the
 * image, boot a linked and a full clone with cloud-init seeds, and check what cloud-init did.
 * One booted pair serves every test in the file.
 */
describe('testlab guests', () => {
  let lab: GuestLab;
  let a: Guest;
  let b: Guest;
  const runId = newRunId();
  const times: Record<string, number> = {};

  beforeAll(async () => {
    await removeStaleNamespaces();
    const t0 = Date.now();
    const image = await buildImage({ onStep: (s) => process.stderr.write(`testlab image: ${s}\n`) });
    times.image = Date.now() - t0;
    lab = await GuestLab.start({ runId, image });
    [a, b] = await Promise.all([
      lab.addGuest({ name: 'guest-a', ip: '10.77.0.11/24', mac: 'BC:24:11:77:00:11', clone: 'linked', diskGiB: 8 }),
      lab.addGuest({ name: 'guest-b', ip: '10.77.0.12/24', mac: 'BC:24:11:77:00:12', clone: 'full' }),
    ]);
    const [ta, tb] = await Promise.all([lab.waitReady(a), lab.waitReady(b)]);
    times.sshReadyA = ta;
    times.sshReadyB = tb;
    process.stderr.write(`testlab: accel=${lab.accel} image=${times.image}ms ssh-ready a=${ta}ms b=${tb}ms\n`);
  });

  afterAll(async () => {
    await lab?.destroy();
  });

  it('lets the cloud-init user in with the declared key at the declared address', async () => {
    const r = await ssh(a.ssh, 'id -un && ip -4 -o addr show eth0');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('lab');
    expect(r.stdout).toContain('10.77.0.11/24');
  });

  it('sets the hostname from the seed', async () => {
    expect((await ssh(a.ssh, 'hostname')).stdout.trim()).toBe('guest-a');
    expect((await ssh(b.ssh, 'hostname')).stdout.trim()).toBe('guest-b');
  });

  it('gives the user passwordless sudo', async () => {
    expect((await ssh(a.ssh, 'sudo -n true && echo ok')).stdout.trim()).toBe('ok');
  });

  it('grows the root filesystem of a resized linked clone', async () => {
    const r = await ssh(a.ssh, "df -B1 --output=size / | tail -1");
    expect(Number(r.stdout.trim())).toBeGreaterThan(7 * 1024 ** 3);
    const rb = await ssh(b.ssh, "df -B1 --output=size / | tail -1");
    expect(Number(rb.stdout.trim())).toBeLessThan(4 * 1024 ** 3);
  });

  it('lets two guests reach each other over the lab bridge', async () => {
    expect((await ssh(a.ssh, 'ping -c1 -w60 10.77.0.12; echo rc=$?')).stdout).toContain('rc=0');
    expect((await ssh(b.ssh, 'ping -c1 -w60 10.77.0.11; echo rc=$?')).stdout).toContain('rc=0');
  });

  it('runs the guest agent', async () => {
    const r = await ssh(a.ssh, 'systemctl is-active qemu-guest-agent');
    expect(`${r.stdout.trim()} ${r.stderr.trim()}`.trim()).toBe('active');
  });

  it('reaches the package mirror, and nothing else, through the apt proxy', async () => {
    const proxy = await lab.startAptProxy();
    const mirror = lab.image.mirror;
    const code = (url: string) => ssh(a.ssh, `curl -s -o /dev/null -w '%{http_code}' -x ${proxy} ${url}`).then((r) => r.stdout.trim());
    expect(await code(`${mirror}/dists/bookworm/Release`)).toBe('200');
    expect(await code('http://example.com/')).toBe('403');
    expect((await ssh(a.ssh, `curl -s -m 5 -o /dev/null ${mirror}/ || echo unreachable`)).stdout.trim()).toBe('unreachable');
  });

  it('stops a guest with an ACPI shutdown, then leaves nothing behind', async () => {
    expect(await lab.stopGuest(b, true)).toBe('shutdown');
    expect(lab.isRunning(b)).toBe(false);
    await lab.destroy();
    expect(lab.isRunning(a)).toBe(false);
    expect(await listNamespaces()).not.toContain(lab.network.namespace);
    expect(existsSync(lab.runDir)).toBe(false);
  });
});
