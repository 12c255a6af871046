import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import type { CloudInitSeed } from '@ahl/pve-sim';

export type Accel = 'kvm' | 'tcg';

export interface VmSpec {
  /** Unique within the lab; used in file and process names. */
  readonly name: string;
  readonly disk: string;
  readonly kernel: string;
  readonly initrd: string;
  /** The root filesystem's label (the image's): the kernel mounts / by it. */
  readonly rootLabel: string;
  /** A NoCloud seed ISO (volume id cidata). */
  readonly seedIso?: string;
  readonly memoryMiB: number;
  readonly cpus: number;
  /** The first NIC: its tap device and MAC. */
  readonly tap: string;
  readonly mac: string;
  /** Further NICs (net1, net2, …), in order, each on its own tap. */
  readonly extraNics?: readonly { readonly tap: string; readonly mac: string }[];
  /** Further disks, in slot order; a serial names the disk inside the guest (/dev/disk/by-id/virtio-SERIAL). */
  readonly extraDisks?: readonly { readonly path: string; readonly serial?: string }[];
  readonly accel: Accel;
  /** Folder for this VM's pid file, serial log and sockets. */
  readonly runDir: string;
}

export interface VmFiles {
  readonly pidFile: string;
  readonly serialLog: string;
  readonly qmp: string;
  readonly agent: string;
}

export function vmFiles(runDir: string): VmFiles {
  return { pidFile: join(runDir, 'qemu.pid'), serialLog: join(runDir, 'serial.log'), qmp: join(runDir, 'qmp.sock'), agent: join(runDir, 'qga.sock') };
}

/** The QEMU command line for a guest: direct kernel boot, virtio disks and NICs, serial to a file, QMP and guest agent sockets. Pure. */
export function qemuArgv(spec: VmSpec): string[] {
  const f = vmFiles(spec.runDir);
  return [
    'qemu-system-x86_64',
    '-name', `ahl-${spec.name},process=ahl-${spec.name}`,
    '-machine', `q35,accel=${spec.accel}`,
    ...(spec.accel === 'kvm' ? ['-cpu', 'host'] : ['-cpu', 'max']),
    '-smp', String(spec.cpus),
    '-m', String(spec.memoryMiB),
    '-kernel', spec.kernel,
    '-initrd', spec.initrd,
    '-append', `root=LABEL=${spec.rootLabel} rw console=ttyS0,115200 net.ifnames=0 biosdevname=0 quiet`,
    '-drive', `file=${spec.disk},if=virtio,format=qcow2,discard=unmap,cache=unsafe`,
    // A drive's serial is a property of its device (QEMU no longer takes it on -drive).
    ...(spec.extraDisks ?? []).flatMap((d, i) => [
      '-drive', `file=${d.path},if=none,id=d${i + 1},format=qcow2,discard=unmap,cache=unsafe`,
      '-device', `virtio-blk-pci,drive=d${i + 1}${d.serial ? `,serial=${d.serial}` : ''}`,
    ]),
    ...(spec.seedIso ? ['-drive', `file=${spec.seedIso},if=virtio,format=raw,readonly=on`] : []),
    ...[{ tap: spec.tap, mac: spec.mac }, ...(spec.extraNics ?? [])].flatMap((n, i) => [
      '-netdev', `tap,id=n${i},ifname=${n.tap},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=n${i},mac=${n.mac.toLowerCase()}`,
    ]),
    '-chardev', `socket,id=qga0,path=${f.agent},server=on,wait=off`,
    '-device', 'virtio-serial',
    '-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
    '-qmp', `unix:${f.qmp},server=on,wait=off`,
    '-serial', `file:${f.serialLog}`,
    '-display', 'none',
    '-monitor', 'none',
    '-pidfile', f.pidFile,
    '-daemonize',
  ];
}

export async function writeSeedIso(path: string, seed: CloudInitSeed): Promise<void> {
  const dir = `${path}.d`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'user-data'), seed.userData);
  writeFileSync(join(dir, 'meta-data'), seed.metaData);
  writeFileSync(join(dir, 'network-config'), seed.networkConfig);
  await execa('genisoimage', ['-quiet', '-output', path, '-volid', 'cidata', '-joliet', '-rock', join(dir, 'user-data'), join(dir, 'meta-data'), join(dir, 'network-config')]);
}

/** Starts the guest inside the namespace (argv prefix from LabNetwork.exec); resolves once QEMU has daemonized. */
export async function startVm(spec: VmSpec, inNamespace: (argv: readonly string[]) => string[]): Promise<number> {
  mkdirSync(spec.runDir, { recursive: true });
  const argv = inNamespace(qemuArgv(spec));
  const r = await execa(argv[0]!, argv.slice(1), { reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`qemu failed to start ${spec.name} (exit ${r.exitCode}): ${r.all}`);
  return vmPid(spec.runDir)!;
}

export function vmPid(runDir: string): number | undefined {
  const f = vmFiles(runDir).pidFile;
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Sends one QMP command and returns its answer. */
export async function qmp(runDir: string, command: string, args?: Record<string, unknown>): Promise<unknown> {
  const sock = vmFiles(runDir).qmp;
  return new Promise((resolve, reject) => {
    const c = createConnection(sock);
    let buf = '';
    let stage = 0;
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`QMP ${command}: no answer`));
    }, 10_000);
    c.on('data', (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (stage === 0 && 'QMP' in msg) {
          stage = 1;
          c.write(`${JSON.stringify({ execute: 'qmp_capabilities' })}\n`);
        } else if (stage === 1 && 'return' in msg) {
          stage = 2;
          c.write(`${JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}) })}\n`);
        } else if (stage === 2 && ('return' in msg || 'error' in msg)) {
          clearTimeout(timer);
          c.end();
          if ('error' in msg) reject(new Error(`QMP ${command}: ${JSON.stringify(msg.error)}`));
          else resolve(msg.return);
        }
      }
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** ACPI shutdown, then a hard kill when the guest has not stopped within `timeoutMs`. Says which it took. */
export async function stopVm(runDir: string, opts: { graceful: boolean; timeoutMs?: number } = { graceful: true }): Promise<'stopped' | 'shutdown' | 'killed'> {
  const pid = vmPid(runDir);
  if (!pid) return 'stopped';
  if (opts.graceful) {
    await qmp(runDir, 'system_powerdown').catch(() => undefined);
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    while (Date.now() < deadline && vmPid(runDir)) await new Promise((r) => setTimeout(r, 250));
  }
  const still = vmPid(runDir);
  if (!still) return 'shutdown';
  process.kill(still, 'SIGKILL');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && vmPid(runDir)) await new Promise((r) => setTimeout(r, 50));
  return 'killed';
}

export function serialTail(runDir: string, lines = 60): string {
  const f = vmFiles(runDir).serialLog;
  if (!existsSync(f)) return '(no serial log)';
  return readFileSync(f, 'utf8').split('\n').slice(-lines).join('\n');
}
