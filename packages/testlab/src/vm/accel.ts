import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Accel } from './qemu.js';

let probed: Accel | undefined;

/**
 * KVM when it really runs guests, else TCG. /dev/kvm can exist while guests hang under it, so the
 * probe boots the kernel under KVM and waits a few seconds for it to print to the serial port.
 * AHL_ACCEL=kvm|tcg skips the probe.
 */
export async function chooseAccel(kernel: string, timeoutMs = 8000): Promise<Accel> {
  const forced = process.env.AHL_ACCEL;
  if (forced === 'kvm' || forced === 'tcg') return forced;
  if (probed) return probed;
  if (!existsSync('/dev/kvm')) return (probed = 'tcg');
  const dir = mkdtempSync(join(tmpdir(), 'ahl-kvm-probe-'));
  const log = join(dir, 'serial.log');
  try {
    const child = execa(
      'qemu-system-x86_64',
      ['-machine', 'q35,accel=kvm', '-cpu', 'host', '-m', '256', '-kernel', kernel, '-append', 'console=ttyS0 panic=-1', '-serial', `file:${log}`, '-display', 'none', '-monitor', 'none', '-no-reboot'],
      { reject: false },
    );
    const deadline = Date.now() + timeoutMs;
    let ok = false;
    while (Date.now() < deadline) {
      if (existsSync(log) && readFileSync(log, 'utf8').includes('Linux version')) {
        ok = true;
        break;
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill('SIGKILL');
    await child.catch(() => undefined);
    return (probed = ok ? 'kvm' : 'tcg');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
