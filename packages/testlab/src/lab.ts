import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { bootOf, markImageInUse, type GuestImage } from './image/build.js';
import { PREFIX } from './net/names.js';
import { AptProxy } from './net/apt-proxy.js';
import { createLabNetwork, type LabNetwork } from './net/namespace.js';
import { chooseAccel } from './vm/accel.js';
import { serialTail, startVm, stopVm, vmPid, writeSeedIso, type Accel } from './vm/qemu.js';
import { guestSeed } from './vm/seed.js';
import { waitForSsh, type SshTarget } from './vm/ssh.js';

export interface GuestOptions {
  readonly name: string;
  /** Static IPv4 with prefix inside the lab network. */
  readonly ip: string;
  readonly mac: string;
  /** linked: a qcow2 overlay on the image; full: a copy. */
  readonly clone: 'linked' | 'full';
  /** Virtual disk size in GiB (grown from the image's size; cloud-init grows the root filesystem). */
  readonly diskGiB?: number;
  readonly memoryMiB?: number;
  readonly cpus?: number;
  /** The image it is a clone of (another distribution's); default the lab's. */
  readonly image?: GuestImage;
}

export interface Guest {
  readonly name: string;
  readonly ip: string;
  readonly runDir: string;
  readonly disk: string;
  readonly ssh: SshTarget;
  readonly pid: number;
}

/**
 * Real guests on a private network, without the simulator: what testlab's own tests and the QEMU
 * backend build on. Everything lives under one run directory and one namespace, both named with the
 * lab prefix and the run id, and `destroy()` removes them.
 */
export class GuestLab {
  private readonly guests: Guest[] = [];
  private index = 0;
  private aptProxy: AptProxy | undefined;
  /** Every image a guest was cloned from: the apt proxy lets guests reach each one's mirror. */
  private readonly images: GuestImage[];

  private constructor(
    readonly runId: string,
    readonly runDir: string,
    readonly network: LabNetwork,
    readonly image: GuestImage,
    readonly accel: Accel,
    readonly user: string,
    readonly key: string,
  ) {
    this.images = [image];
  }

  static async start(opts: { runId: string; image: GuestImage; gateway?: string; user?: string; baseDir?: string }): Promise<GuestLab> {
    markImageInUse(opts.image);
    const runDir = join(opts.baseDir ?? tmpdir(), `${PREFIX}-lab-${opts.runId}`);
    mkdirSync(runDir, { recursive: true });
    const key = join(runDir, 'id_ed25519');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${PREFIX}-${opts.runId}`, '-f', key]);
    const network = await createLabNetwork(opts.runId, [{ name: 'br0', address: opts.gateway ?? '10.77.0.1/24' }]);
    const accel = await chooseAccel(opts.image.kernel);
    return new GuestLab(opts.runId, runDir, network, opts.image, accel, opts.user ?? 'lab', key);
  }

  get publicKeyFile(): string {
    return `${this.key}.pub`;
  }

  async addGuest(o: GuestOptions): Promise<Guest> {
    const runDir = join(this.runDir, o.name);
    mkdirSync(runDir, { recursive: true });
    const disk = join(runDir, 'disk.qcow2');
    const image = o.image ?? this.image;
    if (this.aptProxy && !this.images.includes(image)) throw new Error(`testlab: add the ${image.recipe.distro} guest ${o.name} before the apt proxy starts (it serves the mirrors of the guests' images)`);
    if (!this.images.includes(image)) {
      markImageInUse(image);
      this.images.push(image);
    }
    if (o.clone === 'linked') await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.disk, '-F', 'qcow2', disk]);
    else await execa('qemu-img', ['convert', '-O', 'qcow2', image.disk, disk]);
    if (o.diskGiB) await execa('qemu-img', ['resize', '-q', disk, `${o.diskGiB}G`]);
    const pub = (await execa('cat', [this.publicKeyFile])).stdout.trim();
    const gateway = this.network.gateway.split('/')[0]!;
    const seedIso = join(runDir, 'seed.iso');
    await writeSeedIso(seedIso, guestSeed({ hostname: o.name, user: this.user, sshKeys: [pub], mac: o.mac, ip: o.ip, gateway, nameservers: [gateway], upgrade: false }));
    const tap = await this.network.addTap(this.index++);
    const pid = await startVm(
      { name: `${this.runId}-${o.name}`, disk, ...bootOf(image), seedIso, memoryMiB: o.memoryMiB ?? 1024, cpus: o.cpus ?? 1, tap, mac: o.mac, accel: this.accel, runDir },
      this.network.exec,
    );
    const guest: Guest = { name: o.name, ip: o.ip.split('/')[0]!, runDir, disk, pid, ssh: { host: o.ip.split('/')[0]!, user: this.user, key: this.key, inNamespace: this.network.exec } };
    this.guests.push(guest);
    return guest;
  }

  /** Resolves with the milliseconds it took; on timeout the error carries the serial log. */
  waitReady(guest: Guest, deadlineMs = 10 * 60_000): Promise<number> {
    return waitForSsh(guest.ssh, deadlineMs, () => serialTail(guest.runDir));
  }

  /** 'shutdown' when the guest powered itself off after ACPI, 'killed' when it had to be. */
  stopGuest(guest: Guest, graceful = true): Promise<'stopped' | 'shutdown' | 'killed'> {
    return stopVm(guest.runDir, { graceful, timeoutMs: 90_000 });
  }

  isRunning(guest: Guest): boolean {
    return vmPid(guest.runDir) !== undefined;
  }

  /** Starts (once) the apt proxy guests use to reach their images' mirrors; resolves to its URL on the lab bridge. */
  async startAptProxy(): Promise<string> {
    const mirrors = [...new Set(this.images.map((i) => i.mirror))];
    this.aptProxy ??= await AptProxy.start({ socket: join(this.runDir, 'apt-proxy.sock'), listenAddress: this.network.gateway.split('/')[0]!, mirrors, inNamespace: this.network.exec });
    return this.aptProxy.url;
  }

  /** Stops every guest, removes the namespace and the run directory. Safe to call twice. */
  async destroy(): Promise<void> {
    await this.aptProxy?.stop().catch(() => undefined);
    this.aptProxy = undefined;
    for (const g of this.guests) await stopVm(g.runDir, { graceful: false }).catch(() => undefined);
    await this.network.destroy();
    if (existsSync(this.runDir)) rmSync(this.runDir, { recursive: true, force: true });
  }
}
