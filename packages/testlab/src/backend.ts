import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { AgentInterface, CloudInitSeed, Guest, SimBackend, SimFileSource, StorageDef, Volume } from '@ahl/pve-sim';
import { bootOf, type GuestImage } from './image/build.js';
import type { LabNetwork } from './net/namespace.js';
import type { Accel } from './vm/qemu.js';
import { startVm, stopVm, vmFiles, vmPid, writeSeedIso } from './vm/qemu.js';
import { qga } from './vm/qga.js';

export interface QemuBackendOptions {
  /** Where disks, seeds, sockets and serial logs live. */
  readonly dir: string;
  readonly network: LabNetwork;
  /** Its kernel and initrd boot every guest whose disk is not of one of `images`; bare-metal machines run it. */
  readonly image: GuestImage;
  /** Further images (another distribution's): a disk whose root filesystem has one's label boots its kernel. */
  readonly images?: readonly GuestImage[];
  readonly accel: Accel;
  /** Upper bound on a guest's memory, so a lab sized for real hardware fits this machine. */
  readonly maxMemoryMiB?: number;
  readonly maxCpus?: number;
}

/** Where a bare-metal stand-in of the local lab in `dir` keeps its disk, pid file and serial log. */
export const machineRunDir = (dir: string, name: string): string => join(dir, 'run', 'metal', name);

/** The label of an ext4 superblock (1024 bytes), or undefined when it is none. Pure. */
export function ext4Label(superblock: Uint8Array): string | undefined {
  if (superblock.length < 136 || superblock[56] !== 0x53 || superblock[57] !== 0xef) return undefined;
  const name = superblock.subarray(120, 136);
  const end = name.indexOf(0);
  return Buffer.from(end < 0 ? name : name.subarray(0, end)).toString('utf8');
}

/** The image whose root filesystem has `label`, else `fallback` (a disk ahl's images did not make). Pure. */
export function imageForLabel(label: string | undefined, images: readonly GuestImage[], fallback: GuestImage): GuestImage {
  return images.find((i) => i.recipe.rootLabel === label) ?? fallback;
}

/** qm's drive keys, in the order a boot disk is looked for when the config has no boot order. */
const DISK_KEYS = ['scsi0', 'virtio0', 'sata0', 'ide0'];

/**
 * A guest's NICs from its config, net0 first: MAC and bridge of each. A VLAN tag is not applied: the
 * local lab's bridges are not VLAN-aware, so a tagged NIC sits untagged on its bridge. Pure.
 */
export function guestNics(config: Readonly<Record<string, string | undefined>>): { key: string; mac: string; bridge: string }[] {
  return Object.entries(config)
    .filter((e): e is [string, string] => /^net\d+$/.test(e[0]) && typeof e[1] === 'string')
    .sort(([a], [b]) => Number(a.slice(3)) - Number(b.slice(3)))
    .flatMap(([key, v]) => {
      const mac = /(?:^|,)(?:virtio|e1000|rtl8139|vmxnet3)=([0-9A-Fa-f:]{17})/.exec(v)?.[1];
      return mac ? [{ key, mac, bridge: /bridge=([^,]+)/.exec(v)?.[1] ?? 'vmbr0' }] : [];
    });
}

/**
 * A guest's disks other than its boot disk, in slot order: volume and serial of each. Left out: cd-rom
 * and cloud-init drives, empty slots, and a whole physical disk passed through (a /dev path), which
 * this machine does not have. Pure.
 */
export function guestExtraDisks(config: Readonly<Record<string, string | undefined>>, bootKey: string): { key: string; volid: string; serial?: string }[] {
  const buses = DISK_KEYS.map((k) => k.replace(/\d+$/, ''));
  const order = (k: string) => [buses.indexOf(k.replace(/\d+$/, '')), Number(/\d+$/.exec(k)![0])] as const;
  return Object.entries(config)
    .filter((e): e is [string, string] => /^(scsi|virtio|sata|ide)\d+$/.test(e[0]) && e[0] !== bootKey && typeof e[1] === 'string')
    .filter(([, v]) => !/media=cdrom/.test(v) && !/cloudinit/.test(v) && !/^(none|\/)/.test(v))
    .sort(([a], [b]) => order(a)[0] - order(b)[0] || order(a)[1] - order(b)[1])
    .map(([key, v]) => {
      const serial = /(?:^|,)serial=([^,]+)/.exec(v)?.[1];
      return { key, volid: v.split(',')[0]!, ...(serial ? { serial } : {}) };
    });
}

/**
 * Volumes as qcow2 files under `dir` (a linked clone is an overlay on its template's disk, a full
 * clone a copy, resize grows the file, downloads are kept): what a node's storage holds, without
 * guests. Started guests exist only in the sim's bookkeeping; {@link QemuBackend} runs them for real.
 * Volume paths are real files, and content/{volume} reports them as the node's paths.
 */
export class QcowVolumes implements SimBackend {
  constructor(protected readonly dir: string) {
    mkdirSync(join(dir, 'volumes'), { recursive: true });
  }

  /** A volume's file: one flat folder per storage, the volume name made filesystem-safe. */
  pathOf(volid: string): string {
    const [storage, name] = volid.split(/:(.*)/s) as [string, string];
    return join(this.dir, 'volumes', storage, name.replace(/\//g, '__'));
  }

  volumePath(volume: Volume): string {
    return this.pathOf(volume.volid);
  }

  protected async qemuImg(args: string[]): Promise<void> {
    const r = await execa('qemu-img', args, { reject: false, all: true });
    if (r.exitCode !== 0) throw new Error(`qemu-img ${args[0]} failed: ${r.all}`);
  }

  private ensureDir(path: string): string {
    mkdirSync(join(path, '..'), { recursive: true });
    return path;
  }

  async allocateVolume(volume: Volume, _storage: StorageDef): Promise<void> {
    // The cloud-init drive is made at start from the config, like qm start does.
    if (/cloudinit/.test(volume.volid) || volume.content !== 'images') return;
    await this.qemuImg(['create', '-q', '-f', 'qcow2', this.ensureDir(this.pathOf(volume.volid)), String(volume.size)]);
  }

  async copyVolume(source: Volume, target: Volume): Promise<void> {
    if (/cloudinit/.test(target.volid)) return;
    const src = this.pathOf(source.volid);
    const dst = this.ensureDir(this.pathOf(target.volid));
    if (!existsSync(src)) {
      await this.qemuImg(['create', '-q', '-f', 'qcow2', dst, String(target.size)]);
      return;
    }
    await this.qemuImg(['convert', '-O', 'qcow2', src, dst]);
    if (target.size > (await this.virtualSize(dst))) await this.qemuImg(['resize', '-q', dst, String(target.size)]);
  }

  async linkVolume(base: Volume, target: Volume): Promise<void> {
    const src = this.pathOf(base.volid);
    const dst = this.ensureDir(this.pathOf(target.volid));
    if (!existsSync(src)) throw new Error(`linked clone: the base volume ${base.volid} has no file`);
    // An overlay smaller than its base would cut the disk off: it takes the base's size, and only ever grows.
    await this.qemuImg(['create', '-q', '-f', 'qcow2', '-b', src, '-F', 'qcow2', dst]);
    if (target.size > (await this.virtualSize(dst))) await this.qemuImg(['resize', '-q', dst, String(target.size)]);
  }

  private async virtualSize(path: string): Promise<number> {
    const r = await execa('qemu-img', ['info', '--output=json', '-U', path]);
    return Number((JSON.parse(r.stdout) as { 'virtual-size': number })['virtual-size']);
  }

  async renameVolume(from: Volume, to: Volume): Promise<void> {
    const src = this.pathOf(from.volid);
    if (existsSync(src)) renameSync(src, this.ensureDir(this.pathOf(to.volid)));
  }

  async resizeVolume(volume: Volume, newSize: number): Promise<void> {
    const path = this.pathOf(volume.volid);
    if (existsSync(path) && newSize > (await this.virtualSize(path))) await this.qemuImg(['resize', '-q', path, String(newSize)]);
  }

  async freeVolume(volume: Volume): Promise<void> {
    rmSync(this.pathOf(volume.volid), { force: true });
  }

  async writeFile(volume: Volume, _storage: StorageDef, source: SimFileSource): Promise<void> {
    const dst = this.ensureDir(this.pathOf(volume.volid));
    try {
      renameSync(source.path, dst);
    } catch {
      // Across filesystems (a tmpfs /tmp), rename fails: copy instead.
      copyFileSync(source.path, dst);
      rmSync(source.path, { force: true });
    }
  }

  /** No guest runs: the sim's bookkeeping alone says it does. */
  async startGuest(_guest: Guest, _context?: { cloudInit?: CloudInitSeed }): Promise<void> {}

  async stopGuest(_guest: Guest, _graceful: boolean): Promise<void> {}
}

/**
 * pve-sim's backend for the local lab: {@link QcowVolumes}, and a started guest is a real QEMU
 * process on the lab's bridge with a NoCloud seed made from its cloud-init config, whose guest
 * agent answers for it.
 */
export class QemuBackend extends QcowVolumes {
  private tapIndex = 100;
  /** A running guest's taps, net0 first. */
  private readonly taps = new Map<number, string[]>();
  /** Bare-metal stand-ins by name: their run folders. */
  private readonly machines = new Map<string, string>();

  constructor(private readonly o: QemuBackendOptions) {
    super(o.dir);
  }

  runDir(vmid: number): string {
    return join(this.o.dir, 'run', String(vmid));
  }

  override async startGuest(guest: Guest, context?: { cloudInit?: CloudInitSeed }): Promise<void> {
    const c = guest.config;
    const bootKey = /order=([^;,\s]+)/.exec(c.boot ?? '')?.[1] ?? DISK_KEYS.find((k) => c[k] && !/media=cdrom/.test(c[k]!));
    const disk = bootKey ? c[bootKey] : undefined;
    if (!disk) throw new Error(`VM ${guest.vmid} has no boot disk`);
    const diskPath = this.pathOf(disk.split(',')[0]!);
    if (!existsSync(diskPath)) throw new Error(`VM ${guest.vmid}: disk ${disk.split(',')[0]} has no image file`);
    const nics = guestNics(c);
    if (!nics[0] || nics[0].key !== 'net0') throw new Error(`VM ${guest.vmid} has no net0 with a MAC address`);
    const extraDisks = guestExtraDisks(c, bootKey!).map((d) => ({ path: this.pathOf(d.volid), ...(d.serial ? { serial: d.serial } : {}) }));
    for (const d of extraDisks) if (!existsSync(d.path)) throw new Error(`VM ${guest.vmid}: disk ${d.path} has no image file`);
    const runDir = this.runDir(guest.vmid);
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    let seedIso: string | undefined;
    if (context?.cloudInit) {
      seedIso = join(runDir, 'seed.iso');
      await writeSeedIso(seedIso, context.cloudInit);
    } else {
      // No cloud-init drive: an ISO in a cd-rom slot is handed over instead, as a machine booting
      // with a NoCloud (cidata) stick or disc would see it (ahl image seed makes those).
      const iso = Object.entries(c).find(([k, v]) => /^(ide|sata|scsi)\d+$/.test(k) && /media=cdrom/.test(v) && /:iso\//.test(v.split(',')[0]!))?.[1];
      const file = iso ? this.pathOf(iso.split(',')[0]!) : undefined;
      if (file && existsSync(file)) seedIso = file;
    }
    // A guest that powered itself off (or whose QEMU died) left its tap behind: a start replaces it.
    for (const stale of this.taps.get(guest.vmid) ?? []) await this.o.network.removeTap(stale);
    const taps: string[] = [];
    for (const n of nics) taps.push(await this.o.network.addTap(this.tapIndex++, n.bridge));
    this.taps.set(guest.vmid, taps);
    const memory = Math.min(Number(c.memory ?? 512), this.o.maxMemoryMiB ?? 1024);
    const cpus = Math.min(Number(c.cores ?? 1) * Number(c.sockets ?? 1), this.o.maxCpus ?? 1);
    await startVm(
      {
        name: `vm${guest.vmid}`,
        disk: diskPath,
        ...(await this.bootFiles(diskPath, runDir)),
        ...(seedIso ? { seedIso } : {}),
        memoryMiB: memory,
        cpus,
        tap: taps[0]!,
        mac: nics[0].mac,
        extraNics: nics.slice(1).map((n, i) => ({ tap: taps[i + 1]!, mac: n.mac })),
        extraDisks,
        accel: this.o.accel,
        runDir,
      },
      this.o.network.exec,
    );
  }

  override async stopGuest(guest: Guest, graceful: boolean): Promise<void> {
    await stopVm(this.runDir(guest.vmid), { graceful, timeoutMs: 60_000 });
    for (const tap of this.taps.get(guest.vmid) ?? []) await this.o.network.removeTap(tap);
    this.taps.delete(guest.vmid);
  }

  guestRunning(guest: Guest): boolean {
    return vmPid(this.runDir(guest.vmid)) !== undefined;
  }

  async agentInterfaces(guest: Guest): Promise<AgentInterface[]> {
    return qga<AgentInterface[]>(vmFiles(this.runDir(guest.vmid)).agent, 'guest-network-get-interfaces');
  }

  /**
   * The kernel, initrd and root label that boot `disk`: its image's, found by the label of the
   * filesystem in its first partition (at 1 MiB, as the images lay it), read with qemu-img.
   */
  private async bootFiles(disk: string, runDir: string): Promise<ReturnType<typeof bootOf>> {
    const others = this.o.images ?? [];
    if (!others.length) return bootOf(this.o.image);
    const out = join(runDir, 'superblock');
    // The superblock is 1024 bytes into the filesystem: sectors 2050 and 2051 of the disk.
    const r = await this.qemuImg(['dd', '-f', 'qcow2', '-O', 'raw', 'bs=512', 'skip=2050', 'count=2', `if=${disk}`, `of=${out}`]).then(
      () => true,
      () => false,
    );
    const label = r && existsSync(out) ? ext4Label(readFileSync(out)) : undefined;
    rmSync(out, { force: true });
    return bootOf(imageForLabel(label, [this.o.image, ...others], this.o.image));
  }

  async agentPing(guest: Guest): Promise<void> {
    await qga<unknown>(vmFiles(this.runDir(guest.vmid)).agent, 'guest-ping', 3000);
  }

  /**
   * A physical machine on the lab's bridge, not a guest of the node: the stock image (a
   * copy-on-write overlay of the guest image) booted with a NoCloud seed ISO in its drive, as a
   * bare-metal host boots with the seed `ahl image seed` writes. The sim never sees it.
   */
  async startMachine(m: { readonly name: string; readonly mac: string; readonly bridge: string; readonly seedIso: string }): Promise<{ readonly runDir: string }> {
    const runDir = machineRunDir(this.o.dir, m.name);
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    const disk = join(runDir, 'disk.qcow2');
    await this.qemuImg(['create', '-q', '-f', 'qcow2', '-b', this.o.image.disk, '-F', 'qcow2', disk]);
    const tap = await this.o.network.addTap(this.tapIndex++, m.bridge);
    this.machines.set(m.name, runDir);
    await startVm(
      { name: `metal-${m.name}`, disk, ...bootOf(this.o.image), seedIso: m.seedIso, memoryMiB: this.o.maxMemoryMiB ?? 1024, cpus: 1, tap, mac: m.mac, accel: this.o.accel, runDir },
      this.o.network.exec,
    );
    return { runDir };
  }

  /** Stops every guest and machine this backend started (hard), for teardown. */
  async stopAll(): Promise<void> {
    for (const vmid of this.taps.keys()) await stopVm(this.runDir(vmid), { graceful: false }).catch(() => undefined);
    for (const runDir of this.machines.values()) await stopVm(runDir, { graceful: false }).catch(() => undefined);
    this.taps.clear();
    this.machines.clear();
  }
}
