import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readImageRecords, recordJson, waitForTask, type Lab, type ProxmoxClient, type TemplateManifest, type WaitOptions } from '@ahl/core';
import { writeChannels, writeManifest } from './records.js';
import { placement, specDigest, templateName, versionAt } from './spec.js';

/** A captured appliance boot disk: a vzdump archive on a backup storage. */
export interface CaptureManifest {
  readonly image: string;
  readonly version: string;
  readonly sourceVmid: number;
  readonly sourceName: string;
  readonly node: string;
  readonly volid: string;
  readonly size: number;
  readonly createdAt: string;
}

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

export type CaptureResult =
  | { readonly ok: true; readonly capture: CaptureManifest; readonly file: string }
  | { readonly ok: false; readonly reason: string; readonly taskLog?: readonly string[] };

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
): Promise<CaptureResult> {
  const host = target.host ? lab.hosts.find((h) => h.name === target.host) : undefined;
  if (target.host && !host) return { ok: false, reason: `host "${target.host}" is not declared` };
  const image = target.image ?? host?.template.image;
  if (!image || !lab.images[image]) return { ok: false, reason: image ? `image "${image}" is not declared` : 'name the image the capture is for (--image)' };
  if (lab.images[image].kind !== 'appliance') return { ok: false, reason: `${image} is a cloud image; captures are for appliance images` };
  const guests = (await client.request<Record<string, unknown>[]>('GET', '/cluster/resources', { type: 'vm' })) ?? [];
  const g = guests.find((r) => (target.vmid !== undefined ? Number(r.vmid) === target.vmid : r.name === host?.name));
  if (!g) return { ok: false, reason: `no VM ${target.vmid ?? host?.name} on the server` };
  const vmid = Number(g.vmid);
  const node = String(g.node);
  const running = g.status === 'running';
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
  const cap: CaptureManifest = { image, version: versionAt(now), sourceVmid: vmid, sourceName: String(g.name ?? ''), node, volid: newest.volid, size: newest.size, createdAt: now.toISOString() };
  await mkdir(capturesDir(lab.recordsRoot, image), { recursive: true });
  const file = join(capturesDir(lab.recordsRoot, image), `${cap.version}.json`);
  await writeFile(file, recordJson(cap));
  return { ok: true, capture: cap, file };
}

/**
 * Turns a capture (the newest, or `version`) into a template: restore the archive as a new VM,
 * rename and tag it, convert it, and record a template manifest whose source is the capture.
 */
export async function restoreCapture(
  lab: Lab,
  client: ProxmoxClient,
  image: string,
  opts: { version?: string; now?: () => Date; wait?: WaitOptions } = {},
): Promise<{ ok: true; manifest: TemplateManifest; promoted?: string } | { ok: false; reason: string; taskLog?: readonly string[] }> {
  const spec = lab.images[image];
  if (!spec) return { ok: false, reason: `image "${image}" is not declared` };
  const caps = await readCaptures(lab.recordsRoot, image);
  const cap = opts.version ? caps.find((c) => c.version === opts.version) : caps[caps.length - 1];
  if (!cap) return { ok: false, reason: opts.version ? `no capture ${opts.version} of ${image}` : `${image} has no capture yet (ahl image capture HOST)` };
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
