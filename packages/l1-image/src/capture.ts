import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { readImageRecords, recordJson, shellQuote, waitForTask, writeFileAtomic, type Lab, type NodeShell, type ProxmoxClient, type Reporter, type Secrets, type TemplateManifest, type WaitOptions } from '@ahl/core';
import { buildTemplate } from './build.js';
import { writeChannels, writeManifest } from './records.js';
import { placement, specDigest, templateName, versionAt } from './spec.js';
import { openCaptureStore, type CaptureStore } from './store.js';

interface CaptureBase {
  readonly image: string;
  readonly version: string;
  readonly sourceVmid: number;
  readonly sourceName: string;
  readonly node: string;
  /** Bytes of the archive or image. */
  readonly size: number;
  readonly createdAt: string;
}

/** A vzdump archive of the whole VM on the lab's backup storage (records before stores have no `where`). */
export interface StorageCapture extends CaptureBase {
  readonly where?: 'storage';
  readonly volid: string;
}

/** The boot disk as a qcow2 image in the capture store, with its digest. */
export interface StoreCapture extends CaptureBase {
  readonly where: 'store';
  /** s3://bucket/key of the image; the manifest sits beside it as KEY.json. */
  readonly url: string;
  readonly key: string;
  readonly format: 'qcow2';
  /** sha256:HEX of the image file. */
  readonly digest: string;
  readonly virtualSize: number;
  /** The drive it was read from, e.g. scsi0. */
  readonly disk: string;
}

/** A captured appliance boot disk. */
export type CaptureManifest = StorageCapture | StoreCapture;

export const capturesDir = (root: string, image: string) => join(root, 'images', image, 'captures');

export async function readCaptures(root: string, image: string): Promise<CaptureManifest[]> {
  let names: string[] = [];
  try {
    names = (await readdir(capturesDir(root, image))).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(capturesDir(root, image), n), 'utf8')) as CaptureManifest));
}

export type CaptureResult<C extends CaptureManifest = CaptureManifest> =
  | { readonly ok: true; readonly capture: C; readonly file: string }
  | { readonly ok: false; readonly reason: string; readonly taskLog?: readonly string[] };

/**
 * Captures an appliance VM's disks with vzdump (stop mode: a consistent boot disk) to the lab's
 * backup storage and records the capture. A running VM is refused unless `allowRunning`, in which
 * case vzdump's snapshot mode is used.
 */
type Guest = { readonly vmid: number; readonly node: string; readonly name: string; readonly running: boolean };

/** The image a capture is for and the VM it reads, or why there is none. */
async function captureTarget(lab: Lab, client: ProxmoxClient, target: { host?: string; vmid?: number; image?: string }): Promise<{ image: string; guest: Guest } | { reason: string }> {
  const host = target.host ? lab.hosts.find((h) => h.name === target.host) : undefined;
  if (target.host && !host) return { reason: `host "${target.host}" is not declared` };
  const image = target.image ?? host?.template.image;
  if (!image || !lab.images[image]) return { reason: image ? `image "${image}" is not declared` : 'name the image the capture is for (--image)' };
  if (lab.images[image].kind !== 'appliance') return { reason: `${image} is a cloud image; captures are for appliance images` };
  const guests = (await client.request<Record<string, unknown>[]>('GET', '/cluster/resources', { type: 'vm' })) ?? [];
  const g = guests.find((r) => (target.vmid !== undefined ? Number(r.vmid) === target.vmid : r.name === host?.name));
  if (!g) return { reason: `no VM ${target.vmid ?? host?.name} on the server` };
  return { image, guest: { vmid: Number(g.vmid), node: String(g.node), name: String(g.name ?? ''), running: g.status === 'running' } };
}

async function recordCapture(lab: Lab, cap: CaptureManifest): Promise<string> {
  const file = join(capturesDir(lab.recordsRoot, cap.image), `${cap.version}.json`);
  await writeFileAtomic(file, recordJson(cap));
  return file;
}

/**
 * Captures an appliance VM's disks with vzdump (stop mode: a consistent boot disk) to the lab's
 * backup storage and records the capture. A running VM is refused unless `allowRunning`, in which
 * case vzdump's snapshot mode is used.
 */
export async function capture(
  lab: Lab,
  client: ProxmoxClient,
  target: { host?: string; vmid?: number; image?: string },
  opts: { allowRunning?: boolean; now?: () => Date; wait?: WaitOptions } = {},
): Promise<CaptureResult<StorageCapture>> {
  const t = await captureTarget(lab, client, target);
  if ('reason' in t) return { ok: false, reason: t.reason };
  const { image, guest } = t;
  const { vmid, node, running } = guest;
  if (running && !opts.allowRunning) return { ok: false, reason: `VM ${vmid} is running; stop it first for a consistent boot disk, or allow a snapshot-mode capture` };
  const storage = { ...lab.config.defaults.storage, ...(lab.config.nodes[node]?.storage ?? {}) }.backup;
  if (!storage) return { ok: false, reason: 'lab.yaml has no backup storage (defaults.storage.backup) to capture to' };
  const upid = await client.request<string>('POST', `/nodes/${encodeURIComponent(node)}/vzdump`, { vmid, storage, mode: running ? 'snapshot' : 'stop', compress: 'zstd', 'notes-template': `ahl capture of {{guestname}} for ${image}` });
  const task = await waitForTask(client, upid, opts.wait);
  if (!task.ok) return { ok: false, reason: `vzdump failed: ${task.exitstatus}`, taskLog: task.log };
  const content = (await client.request<{ volid: string; size: number; ctime: number; vmid?: number }[]>('GET', `/nodes/${encodeURIComponent(node)}/storage/${encodeURIComponent(storage)}/content`, { content: 'backup', vmid })) ?? [];
  const newest = content.sort((a, b) => b.ctime - a.ctime)[0];
  if (!newest) return { ok: false, reason: `vzdump finished but no archive of VM ${vmid} is on ${storage}`, taskLog: task.log };
  const now = (opts.now ?? (() => new Date()))();
  const cap: StorageCapture = { image, version: versionAt(now), sourceVmid: vmid, sourceName: guest.name, node, volid: newest.volid, size: newest.size, createdAt: now.toISOString() };
  return { ok: true, capture: cap, file: await recordCapture(lab, cap) };
}

/** Drive keys in the order a boot disk is looked for when the config has no boot order. */
const DISK_KEYS = ['scsi0', 'virtio0', 'sata0', 'ide0'];

/** The boot disk of a VM config: the first disk of `boot: order=…`, else the first usual disk slot. Pure. */
export function bootDisk(config: Readonly<Record<string, unknown>>): { key: string; volid: string } | undefined {
  const isDisk = (k: string) => typeof config[k] === 'string' && !/media=cdrom/.test(config[k] as string) && /^(ide|sata|scsi|virtio)\d+$/.test(k);
  const order = /order=([^,\s]+)/.exec(String(config.boot ?? ''))?.[1]?.split(';') ?? [];
  const key = order.find(isDisk) ?? DISK_KEYS.find(isDisk);
  if (!key) return undefined;
  const volid = (config[key] as string).split(',')[0]!;
  return volid.startsWith('/') ? undefined : { key, volid };
}

/**
 * Captures an appliance's boot disk to the capture store: the node converts it to a qcow2 image
 * (qemu-img, over its shell: the API cannot read disks), ahl streams that to S3 while hashing it and
 * checks the digest against the node's, then writes a manifest (size, digest) beside it and records
 * the capture. A running VM is refused unless `stop`: then it is shut down first and started again
 * afterwards, whatever happened.
 */
export async function captureToStore(
  lab: Lab,
  client: ProxmoxClient,
  store: CaptureStore,
  shellFor: (node: string) => NodeShell,
  target: { host?: string; vmid?: number; image?: string },
  opts: { stop?: boolean; now?: () => Date; wait?: WaitOptions; reporter?: Reporter } = {},
): Promise<CaptureResult<StoreCapture>> {
  const t = await captureTarget(lab, client, target);
  if ('reason' in t) return { ok: false, reason: t.reason };
  const { image, guest } = t;
  const { vmid, node } = guest;
  const progress = (step: string, detail?: string) => opts.reporter?.progress({ step, target: image, status: 'start', ...(detail ? { detail } : {}) });
  const vmPath = `/nodes/${encodeURIComponent(node)}/qemu/${vmid}`;
  if (guest.running && !opts.stop) return { ok: false, reason: `VM ${vmid} is running; stop it first for a consistent boot disk, or let ahl shut it down and start it again (--stop)` };
  let restart = false;
  try {
    if (guest.running) {
      progress('shutdown', `VM ${vmid}`);
      const down = await waitForTask(client, await client.request<string>('POST', `${vmPath}/status/shutdown`, { timeout: 180, forceStop: 0 }), opts.wait);
      if (!down.ok) return { ok: false, reason: `VM ${vmid} did not shut down: ${down.exitstatus}`, taskLog: down.log };
      restart = true;
    }
    const config = await client.request<Record<string, unknown>>('GET', `${vmPath}/config`);
    const disk = bootDisk(config);
    if (!disk) return { ok: false, reason: `VM ${vmid} has no boot disk on a storage` };
    const storage = disk.volid.split(':')[0]!;
    const { path } = await client.request<{ path: string }>('GET', `/nodes/${encodeURIComponent(node)}/storage/${encodeURIComponent(storage)}/content/${encodeURIComponent(disk.volid)}`);
    const shell = shellFor(node);
    const now = (opts.now ?? (() => new Date()))();
    const version = versionAt(now);
    const key = `${store.prefix}/${image}/${version}.qcow2`;
    progress('convert', `${disk.key} (${path}) to qcow2 on ${node}`);
    const tmp = await shell.run('mktemp -d /var/tmp/ahl-capture.XXXXXX');
    const file = `${tmp}/disk.qcow2`;
    try {
      const [sha, bytes, ...info] = (
        await shell.run(`set -e; qemu-img convert -O qcow2 ${shellQuote(path)} ${shellQuote(file)}; sha256sum ${shellQuote(file)} | cut -d' ' -f1; stat -c %s ${shellQuote(file)}; qemu-img info --output=json ${shellQuote(file)}`)
      ).split('\n');
      const virtualSize = Number((JSON.parse(info.join('\n')) as { 'virtual-size': number })['virtual-size']);
      progress('upload', `${Math.round(Number(bytes) / 1024 / 1024)} MiB to ${store.url(key)}`);
      const hash = createHash('sha256');
      let sent = 0;
      const tap = new PassThrough();
      tap.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        sent += chunk.length;
      });
      const out = await shell.stream(`cat ${shellQuote(file)}`);
      out.stdout.pipe(tap);
      await Promise.all([store.upload(key, tap, 'application/x-qemu-disk'), out.done]).catch((e: unknown) => {
        // A refused upload stops reading: end the reader on the node too, rather than leave it blocked.
        out.stdout.destroy();
        throw e;
      });
      const digest = hash.digest('hex');
      if (digest !== sha || sent !== Number(bytes)) return { ok: false, reason: `the upload of ${store.url(key)} does not match the image on ${node} (${sent} bytes, sha256 ${digest}; the node has ${bytes} bytes, sha256 ${sha})` };
      const cap: StoreCapture = { image, version, sourceVmid: vmid, sourceName: guest.name, node, where: 'store', url: store.url(key), key, format: 'qcow2', size: sent, digest: `sha256:${digest}`, virtualSize, disk: disk.key, createdAt: now.toISOString() };
      await store.putJson(`${key}.json`, cap);
      return { ok: true, capture: cap, file: await recordCapture(lab, cap) };
    } finally {
      await shell.run(`rm -rf ${shellQuote(tmp)}`).catch(() => undefined);
    }
  } finally {
    if (restart) {
      progress('start', `VM ${vmid} again`);
      await client
        .request<string>('POST', `${vmPath}/status/start`)
        .then((upid) => waitForTask(client, upid, opts.wait))
        .catch(() => undefined);
    }
  }
}

/** A template from a capture in the store: the node downloads the image by a presigned URL and checks its digest. */
async function restoreFromStore(
  lab: Lab,
  client: ProxmoxClient,
  cap: StoreCapture,
  store: CaptureStore | undefined,
  opts: { now?: () => Date; wait?: WaitOptions; reporter?: Reporter; force?: boolean },
): Promise<{ ok: true; manifest: TemplateManifest; promoted?: string; skipped?: string } | { ok: false; reason: string; taskLog?: readonly string[] }> {
  if (!store) return { ok: false, reason: `capture ${cap.version} is in the capture store (${cap.url}), and lab.yaml names no captureStore` };
  const size = await store.size(cap.key);
  if (size === undefined) return { ok: false, reason: `${cap.url} is no longer in the capture store` };
  if (size !== cap.size) return { ok: false, reason: `${cap.url} holds ${size} bytes; its manifest says ${cap.size}` };
  // An hour is long enough for the node to fetch a large image and short enough to be worth little if it leaks.
  const url = await store.presign(cap.key, 3600);
  const r = await buildTemplate(lab, client, cap.image, {
    ...(opts.force ? { force: true } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.wait ? { wait: opts.wait } : {}),
    ...(opts.reporter ? { reporter: opts.reporter } : {}),
    source: { url, digest: cap.digest, shown: cap.url, record: { capture: cap.url, digest: cap.digest } },
  });
  if (r.outcome === 'failed') return { ok: false, reason: `${r.step}: ${r.message}`, ...(r.taskLog ? { taskLog: r.taskLog } : {}) };
  if (r.outcome === 'skipped') return { ok: true, manifest: r.manifest, skipped: r.reason };
  return { ok: true, manifest: r.manifest, ...(r.promoted ? { promoted: r.promoted } : {}) };
}

export interface RestoreCaptureOptions {
  version?: string;
  now?: () => Date;
  wait?: WaitOptions;
  /**
   * The capture store, or how to open it: it is opened only when the capture asked for may be there,
   * and a store opened here is closed here.
   */
  store?: CaptureStore | (() => Promise<CaptureStore>);
  reporter?: Reporter;
  force?: boolean;
}

type RestoreCaptureResult = { ok: true; manifest: TemplateManifest; promoted?: string; skipped?: string } | { ok: false; reason: string; taskLog?: readonly string[] };

/**
 * Turns a capture (the newest, or `version`) into a template: restore the archive as a new VM,
 * rename and tag it, convert it, and record a template manifest whose source is the capture.
 */
export async function restoreCapture(lab: Lab, client: ProxmoxClient, image: string, opts: RestoreCaptureOptions = {}): Promise<RestoreCaptureResult> {
  const open = opts.store;
  if (typeof open !== 'function') return restoreWith(lab, client, image, opts);
  let opened: CaptureStore | undefined;
  try {
    return await restoreWith(lab, client, image, { ...opts, store: async () => (opened ??= await open()) });
  } finally {
    opened?.close();
  }
}

/** How to open the lab's capture store, its credentials resolved only then; undefined when it has none. */
export function labCaptureStore(lab: Lab, secrets: () => Promise<Secrets>): (() => Promise<CaptureStore>) | undefined {
  return lab.config.captureStore ? async () => openCaptureStore(lab.config, await secrets()) : undefined;
}

async function restoreWith(lab: Lab, client: ProxmoxClient, image: string, opts: RestoreCaptureOptions): Promise<RestoreCaptureResult> {
  const spec = lab.images[image];
  if (!spec) return { ok: false, reason: `image "${image}" is not declared` };
  const caps = await readCaptures(lab.recordsRoot, image);
  let store: CaptureStore | undefined;
  const openStore = async () => (store ??= typeof opts.store === 'function' ? await opts.store() : opts.store);
  // Captures in the store that this machine has no record of (a new machine, the local lab) count too;
  // a version this machine has a vzdump record of needs no store at all.
  const local = opts.version ? caps.find((c) => c.version === opts.version) : undefined;
  if (opts.store && !(local && local.where !== 'store')) {
    const s = (await openStore())!;
    const known = new Set(caps.map((c) => c.version));
    const keys = (await s.list(`${s.prefix}/${image}/`)).filter((k) => k.endsWith('.qcow2.json'));
    for (const k of keys) {
      const m = await s.getJson<StoreCapture>(k);
      if (m && m.where === 'store' && m.image === image && !known.has(m.version)) caps.push(m);
    }
    caps.sort((a, b) => (a.version < b.version ? -1 : 1));
  }
  const cap = opts.version ? caps.find((c) => c.version === opts.version) : caps[caps.length - 1];
  if (!cap) return { ok: false, reason: opts.version ? `no capture ${opts.version} of ${image}` : `${image} has no capture yet (ahl image capture HOST)` };
  if (cap.where === 'store') return restoreFromStore(lab, client, cap, await openStore(), opts);
  const where = placement(lab, spec);
  const guests = (await client.request<{ vmid: number }[]>('GET', '/cluster/resources', { type: 'vm' })) ?? [];
  let vmid = spec.template.vmid ?? Number(await client.request<string>('GET', '/cluster/nextid'));
  while (guests.some((g) => Number(g.vmid) === vmid)) vmid++;
  const version = versionAt((opts.now ?? (() => new Date()))());
  const name = templateName(image, version);
  const node = encodeURIComponent(where.node);
  const restore = await waitForTask(client, await client.request<string>('POST', `/nodes/${node}/qemu`, { vmid, archive: cap.volid, storage: where.storage, unique: 1 }), opts.wait);
  const undo = async () => {
    const upid = await client.request<string>('DELETE', `/nodes/${node}/qemu/${vmid}`, { purge: 1, 'destroy-unreferenced-disks': 1 }).catch(() => undefined);
    if (upid) await waitForTask(client, upid, opts.wait).catch(() => undefined);
  };
  if (!restore.ok) {
    await undo();
    return { ok: false, reason: `restore of ${cap.volid} failed: ${restore.exitstatus}`, taskLog: restore.log };
  }
  await client.request('PUT', `/nodes/${node}/qemu/${vmid}/config`, { name, tags: ['ahl-template', `image-${image}`, ...spec.tags].join(';'), description: `ahl template ${name} from capture ${cap.volid}` });
  const tpl = await client.request<string | null>('POST', `/nodes/${node}/qemu/${vmid}/template`);
  if (typeof tpl === 'string') {
    const t = await waitForTask(client, tpl, opts.wait);
    if (!t.ok) {
      await undo();
      return { ok: false, reason: `converting to a template failed: ${t.exitstatus}`, taskLog: t.log };
    }
  }
  const manifest: TemplateManifest = {
    image,
    version,
    vmid,
    node: where.node,
    storage: where.storage,
    templateName: name,
    source: { capture: cap.volid },
    specDigest: specDigest(spec),
    toolVersion: '0.0.0',
    createdAt: (opts.now ?? (() => new Date()))().toISOString(),
  };
  await writeManifest(lab.recordsRoot, manifest);
  const rec = await readImageRecords(lab.recordsRoot, image);
  if (!rec.channels.channels.stable) {
    await writeChannels(lab.recordsRoot, image, { channels: { ...rec.channels.channels, stable: version }, history: rec.channels.history });
    return { ok: true, manifest, promoted: 'stable' };
  }
  return { ok: true, manifest };
}
