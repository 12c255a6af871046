import { relative } from 'node:path';
import { ahlError, ProxmoxApiError, readImageRecords, silentReporter, waitForTask, type Image, type Lab, type ProxmoxClient, type Reporter, type TemplateManifest, type WaitOptions } from '@ahl/core';
import { writeChannels, writeManifest } from './records.js';
import { withLockRetry } from './retry.js';
import { createParams, digestFromSums, importFileName, placement, specDigest, templateName, versionAt } from './spec.js';

export type BuildStep = 'checksum' | 'download' | 'vmid' | 'create' | 'template' | 'manifest';

export type BuildResult =
  | { readonly outcome: 'skipped'; readonly image: string; readonly manifest: TemplateManifest; readonly reason: string }
  | { readonly outcome: 'built'; readonly image: string; readonly manifest: TemplateManifest; readonly promoted?: string; readonly files: readonly string[] }
  | {
      readonly outcome: 'failed';
      readonly image: string;
      readonly step: BuildStep;
      readonly message: string;
      /** The failing task's log, when a task failed. */
      readonly taskLog?: readonly string[];
      /** What the build had made and removed again. */
      readonly removed: readonly string[];
    };

export interface BuildOptions {
  readonly force?: boolean;
  readonly reporter?: Reporter;
  readonly now?: () => Date;
  /** Fetches a checksum file (checksumUrl); default: fetch over the network. */
  readonly fetchText?: (url: string) => Promise<string>;
  readonly wait?: WaitOptions;
  /** The version of ahl, recorded in the manifest. */
  readonly toolVersion?: string;
  /**
   * Build from this instead of the image's cloud-image URL (a capture in the store, by a presigned
   * URL): its digest is known, `shown` replaces the URL in progress and `record` in the manifest.
   */
  readonly source?: { readonly url: string; readonly digest: string; readonly shown: string; readonly record: TemplateManifest['source'] };
}

class StepFailure extends Error {
  constructor(
    readonly step: BuildStep,
    message: string,
    readonly taskLog?: readonly string[],
  ) {
    super(message);
  }
}

async function defaultFetchText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw ahlError('DOWNLOAD_FAILED', { url, reason: `HTTP ${res.status}` });
  return res.text();
}

/**
 * Builds the template of `image` over the API only: download the cloud image to the import storage
 * with its checksum verified by the node, create a VM importing it (cloud-init drive, serial console,
 * agent, the spec's machine/bios/scsihw), convert it to a template, write the manifest. Skips when
 * a template from the same spec and source digest exists (unless `force`). A failure at any step
 * removes what this build made and says which step failed, with the task log.
 */
export async function buildTemplate(lab: Lab, client: ProxmoxClient, imageName: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const image = lab.images[imageName];
  if (!image) throw ahlError('INTERNAL', { message: `image ${imageName} is not declared` });
  const report = opts.reporter ?? silentReporter;
  const step = (s: BuildStep, status: 'start' | 'ok' | 'skipped' | 'failed', detail?: string) => report.progress({ step: s, target: imageName, status, ...(detail ? { detail } : {}) });
  const where = placement(lab, image);
  const node = encodeURIComponent(where.node);
  const removed: string[] = [];
  let downloaded: string | undefined;
  let createdVmid: number | undefined;

  const waitOk = async (s: BuildStep, upid: string) => {
    const r = await waitForTask(client, upid, { ...opts.wait, onLog: (l) => report.progress({ step: s, target: imageName, status: 'start', detail: l }) });
    if (!r.ok) throw new StepFailure(s, `task ${r.upid} failed: ${r.exitstatus}`, r.log);
  };
  const api = <T>(s: BuildStep, fn: () => Promise<T>) =>
    withLockRetry(fn, { onWait: (e) => report.progress({ step: s, target: imageName, status: 'start', detail: `waiting for a lock: ${e.message}` }) }).catch((e: unknown) => {
      if (e instanceof ProxmoxApiError) throw new StepFailure(s, e.message);
      throw e;
    });

  try {
    const sourceUrl = opts.source?.url ?? image.source.url;
    if (!sourceUrl) throw new StepFailure('checksum', `${imageName} has no source URL: appliance templates come from \`ahl image restore-capture\``);
    const shown = opts.source?.shown ?? sourceUrl;
    step('checksum', 'start');
    let digest = opts.source?.digest ?? image.source.checksum;
    if (!digest) {
      const sums = await (opts.fetchText ?? defaultFetchText)(image.source.checksumUrl!).catch((e: Error) => {
        throw new StepFailure('checksum', `cannot read ${image.source.checksumUrl}: ${e.message}`);
      });
      const file = decodeURIComponent(new URL(sourceUrl).pathname.split('/').pop() ?? '');
      digest = digestFromSums(sums, file);
      if (!digest) throw new StepFailure('checksum', `${image.source.checksumUrl} has no checksum for ${file}`);
    }
    step('checksum', 'ok', digest);

    const spec = specDigest(image);
    const records = await readImageRecords(lab.recordsRoot, imageName);
    const templates = ((await client.request<{ vmid: number; template?: number; node: string; name?: string; type: string }[]>('GET', '/cluster/resources', { type: 'vm' })) ?? []).filter((r) => r.type === 'qemu');
    if (!opts.force) {
      const same = [...records.manifests].reverse().find((m) => m.specDigest === spec && m.source.digest === digest && templates.some((t) => t.vmid === m.vmid && t.template === 1 && t.name === m.templateName));
      if (same) return { outcome: 'skipped', image: imageName, manifest: same, reason: `${same.templateName} (vmid ${same.vmid}) was built from the same spec and source; use --force to rebuild` };
    }

    const [algorithm, hex] = digest.split(':') as [string, string];
    const fileName = importFileName(imageName, digest);
    const importVolid = `${where.importStorage}:import/${fileName}`;
    step('download', 'start', `${shown} → ${importVolid}`);
    const present = await api('download', () => client.request<{ volid: string }[]>('GET', `/nodes/${node}/storage/${encodeURIComponent(where.importStorage)}/content`, { content: 'import' }));
    const existed = (present ?? []).some((c) => c.volid === importVolid);
    const dl = await api('download', () =>
      client.request<string>('POST', `/nodes/${node}/storage/${encodeURIComponent(where.importStorage)}/download-url`, {
        content: 'import',
        filename: fileName,
        url: sourceUrl,
        checksum: hex,
        'checksum-algorithm': algorithm,
        'verify-certificates': sourceUrl.startsWith('https:') ? 1 : 0,
      }),
    );
    if (!existed) downloaded = importVolid;
    await waitOk('download', dl);
    step('download', 'ok', existed ? 'already on the storage, checksum verified' : undefined);

    step('vmid', 'start');
    const taken = new Set(templates.map((t) => t.vmid));
    let vmid: number;
    if (image.template.vmid !== undefined) {
      vmid = image.template.vmid;
      while (taken.has(vmid)) vmid++;
    } else vmid = Number(await api('vmid', () => client.request<string>('GET', '/cluster/nextid')));
    step('vmid', 'ok', String(vmid));

    const version = versionAt((opts.now ?? (() => new Date()))());
    const name = templateName(imageName, version);
    step('create', 'start', `${name} (vmid ${vmid}) on ${where.node}`);
    const create = await api('create', () => client.request<string>('POST', `/nodes/${node}/qemu`, createParams(image, { vmid, name, storage: where.storage, importVolid, bridge: where.bridge })));
    createdVmid = vmid;
    await waitOk('create', create);
    step('create', 'ok');

    step('template', 'start');
    const tpl = await api('template', () => client.request<string | null>('POST', `/nodes/${node}/qemu/${vmid}/template`));
    if (typeof tpl === 'string') await waitOk('template', tpl);
    step('template', 'ok');

    step('manifest', 'start');
    const manifest: TemplateManifest = {
      image: imageName,
      version,
      vmid,
      node: where.node,
      storage: where.storage,
      templateName: name,
      source: opts.source?.record ?? { url: sourceUrl, digest },
      specDigest: spec,
      toolVersion: opts.toolVersion ?? '0.0.0',
      createdAt: (opts.now ?? (() => new Date()))().toISOString(),
    };
    const files = [await writeManifest(lab.recordsRoot, manifest)];
    let promoted: string | undefined;
    // The first template of an image becomes stable at once; later ones wait for `ahl image promote`.
    if (!records.channels.channels.stable) {
      files.push(await writeChannels(lab.recordsRoot, imageName, { channels: { ...records.channels.channels, stable: version }, history: records.channels.history }));
      promoted = 'stable';
    }
    step('manifest', 'ok', files.map((f) => relative(lab.root, f)).join(', '));
    return { outcome: 'built', image: imageName, manifest, files, ...(promoted ? { promoted } : {}) };
  } catch (e) {
    if (!(e instanceof StepFailure)) throw e;
    step(e.step, 'failed', e.message);
    if (createdVmid !== undefined) {
      const del = await client
        .request<string>('DELETE', `/nodes/${node}/qemu/${createdVmid}`, { purge: 1, 'destroy-unreferenced-disks': 1 })
        .then((upid) => waitForTask(client, upid, opts.wait))
        .catch(() => undefined);
      if (del?.ok) removed.push(`VM ${createdVmid}`);
    }
    if (downloaded) {
      const gone = await client
        .request<string | null>('DELETE', `/nodes/${node}/storage/${encodeURIComponent(placement(lab, image).importStorage)}/content/${encodeURIComponent(downloaded)}`)
        .then(async (upid) => (typeof upid === 'string' ? (await waitForTask(client, upid, opts.wait)).ok : true))
        .catch(() => false);
      if (gone) removed.push(downloaded);
    }
    return { outcome: 'failed', image: imageName, step: e.step, message: e.message, ...(e.taskLog ? { taskLog: e.taskLog } : {}), removed };
  }
}
