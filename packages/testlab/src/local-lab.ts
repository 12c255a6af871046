import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { lastUsable, parseIpv4Cidr, type Lab } from '@ahl/core';
import { execa } from 'execa';
import { startSim, type RunningSim, type SeedConfig } from '@ahl/pve-sim';
import { QemuBackend } from './backend.js';
import { buildImage, markImageInUse, ubuntuImage, type GuestImage } from './image/build.js';
import { createLabNetwork, removeStaleNamespaces, type BridgeSpec, type LabNetwork } from './net/namespace.js';
import { newRunId } from './net/names.js';
import { chooseAccel } from './vm/accel.js';
import { AptProxy } from './net/apt-proxy.js';

/** What `ahl lab up` records, so `status` and `down` find the lab again. */
export interface LocalLabState {
  readonly pid: number;
  readonly runId: string;
  readonly namespace: string;
  readonly endpoint: string;
  readonly fingerprint: string;
  readonly tokenId: string;
  /** Where the token secret is (mode 0600), relative to the lab root. */
  readonly tokenFile: string;
  readonly imageUrl: string;
  /** The distributions' images served besides the Debian one (imageUrl), by os.family. */
  readonly imageUrls?: Readonly<Record<string, string>>;
  /** Why an image the lab's templates want is not served (its templates get the Debian image). */
  readonly unavailable?: readonly string[];
  readonly accel: string;
  readonly startedAt: string;
  /** The bare-metal hosts running as machines on the lab's bridge (not guests of the node). */
  readonly machines?: readonly string[];
}

export const LOCAL_LAB_DIR = '.ahl/lab';
export const TOKEN_ID = 'ahl@pve!ahl';

/**
 * The simulated cluster the lab describes: its nodes, each with the bridges its hosts use; its storage
 * roles as directory storages (qcow2 files, so linked clones are overlays); and a token for ahl. Pure.
 */
export function localSeed(lab: Lab, tokenSecret: string): SeedConfig {
  const roles = (node: string) => ({ vm: 'local-lvm', iso: 'local', ...lab.config.defaults.storage, ...(lab.config.nodes[node]?.storage ?? {}) });
  const storages = new Map<string, Set<string>>();
  const add = (id: string, ...content: string[]) => {
    const s = storages.get(id) ?? new Set<string>();
    content.forEach((c) => s.add(c));
    storages.set(id, s);
  };
  const nodes = Object.keys(lab.config.nodes).sort();
  for (const n of nodes) {
    const r = roles(n);
    add(r.vm, 'images');
    add(r.iso, 'iso', 'vztmpl');
    add(r.import ?? r.iso, 'import');
    if (r.snippets) add(r.snippets, 'snippets');
    if (r.backup) add(r.backup, 'backup');
  }
  for (const h of lab.hosts) add(h.disk.datastore, 'images');
  return {
    pveVersion: '9.1.1',
    clusterName: lab.name,
    dns: { nameservers: [...new Set(lab.hosts.flatMap((h) => h.dns))].slice(0, 3), searchdomains: [] },
    nodes: nodes.map((name) => ({
      name,
      bridges: [...new Set([lab.config.nodes[name]?.bridge ?? lab.config.defaults.bridge, ...lab.hosts.filter((h) => h.node === name).flatMap((h) => [h.network.bridge, ...h.nics.map((n) => n.bridge)])])]
        .sort()
        .map((iface) => ({ iface })),
    })),
    storages: [...storages.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, content]) => ({ id, type: 'dir' as const, path: `/var/lib/ahl/${id}`, content: [...content].sort(), size: 2000, format: 'qcow2' })),
    users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: tokenSecret, privsep: false }] }],
    acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
  };
}

/**
 * The lab's bridges inside the namespace, each holding the gateway of the hosts on it (so guests reach
 * it and each other). A bridge only extra NICs use has no gateway: it gets the last usable address of
 * the first static NIC's subnet on it, unless a host holds that one, so this machine reaches those
 * NICs as the rest of that network would. Pure.
 */
export function localBridges(lab: Lab): BridgeSpec[] {
  const bridges = new Map<string, string | undefined>();
  bridges.set(lab.config.defaults.bridge, undefined);
  for (const h of lab.hosts) {
    if (!bridges.get(h.network.bridge) && h.gateway && h.ip) bridges.set(h.network.bridge, `${h.gateway}/${h.ip.prefix}`);
    else if (!bridges.has(h.network.bridge)) bridges.set(h.network.bridge, undefined);
  }
  const used = new Set(lab.hosts.flatMap((h) => [...(h.ip ? [h.ip.address] : []), ...h.nics.flatMap((n) => (n.ip === 'dhcp' ? [] : [parseIpv4Cidr(n.ip)!.address]))]));
  for (const n of lab.hosts.flatMap((h) => h.nics)) {
    if (bridges.get(n.bridge)) continue;
    const cidr = n.ip === 'dhcp' ? undefined : parseIpv4Cidr(n.ip);
    const last = cidr && cidr.prefix <= 30 ? lastUsable(cidr) : undefined;
    bridges.set(n.bridge, last && !used.has(last) ? `${last}/${cidr!.prefix}` : undefined);
  }
  return [...bridges.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, address]) => ({ name, ...(address ? { address } : {}) }));
}

/**
 * lab.local.yaml pointing ahl at the local lab: endpoint, pinned certificate, token file, and every
 * cloud image served locally: the image of its os.family where `imageUrls` has one, else the
 * Debian image (`imageUrl`). Pure.
 */
export function localOverlay(
  lab: Lab,
  s: {
    endpoint: string;
    fingerprint: string;
    tokenFile: string;
    imageUrl: string;
    imageUrls?: Readonly<Record<string, string>>;
    sumsUrl: string;
    namespace: string;
    aptProxy?: string;
    key?: { file: string; publicKey: string };
  },
): string {
  const images = Object.values(lab.images).filter((i) => i.kind === 'cloud');
  const urlOf = (family: string | undefined) => (family && s.imageUrls?.[family]) || s.imageUrl;
  return [
    '# Written by `ahl lab up`: points this checkout at the local lab. `ahl lab down` removes it. Not for Git.',
    'proxmox:',
    `  endpoint: ${s.endpoint}`,
    `  tokenId: ${TOKEN_ID}`,
    `  tokenSecret: file:${s.tokenFile}`,
    '  tls:',
    `    fingerprint: "${s.fingerprint}"`,
    ...(images.length ? ['images:', ...images.flatMap((i) => [`  ${i.name}:`, '    source:', `      url: ${urlOf(i.os?.family)}`, `      checksumUrl: ${s.sumsUrl}`])] : []),
    '# The guests live in a network namespace: SSH and Ansible reach them from inside it, with a',
    '# known_hosts of their own (new guests reuse addresses with new keys).',
    'ssh:',
    `  netns: ${s.namespace}`,
    `  knownHostsFile: ${LOCAL_LAB_DIR}/known_hosts`,
    ...(s.key
      ? [
          `  privateKey: ${s.key.file}`,
          "# The local lab's own key: its guests trust it as well as the lab's keys (whose private halves",
          '# this machine may not have), for the cloud-init user and every persona user with keys.',
          'extraSshKeys:',
          `  - ${s.key.publicKey}`,
        ]
      : []),
    ...(s.aptProxy
      ? [
          '# The guests have no way out but this apt proxy on the lab bridge (to their images\' mirrors only),',
          "# so a container engine comes from the distribution's docker.io, not from Docker's own repository.",
          'system:',
          `  aptProxy: ${s.aptProxy}`,
          '  containerEngineSource: distro',
        ]
      : []),
    '# The simulated nodes run on this machine: their disks are files here (image capture reads them).',
    'nodes:',
    ...Object.keys(lab.config.nodes).map((n) => `  ${n}: {ssh: local}`),
    '# Templates built here exist only in the local lab: their records stay out of images/.',
    `records: ${LOCAL_LAB_DIR}/records`,
    '',
  ].join('\n');
}

/** The local lab's SSH key pair (made once, kept like its token): returns the public key. */
async function labKey(dir: string): Promise<string> {
  const file = join(dir, 'id_ed25519');
  if (!existsSync(file) || !existsSync(`${file}.pub`)) {
    rmSync(file, { force: true });
    rmSync(`${file}.pub`, { force: true });
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ahl-local-lab', '-f', file], { stdin: 'ignore' });
  }
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

/** SHA-256 of an image's disk, kept beside it (recomputed when the disk is newer). */
async function diskSha256(image: GuestImage): Promise<string> {
  const sumFile = `${image.disk}.sha256`;
  const kept = existsSync(sumFile) && statSync(sumFile).mtimeMs >= statSync(image.disk).mtimeMs ? readFileSync(sumFile, 'utf8').trim() : '';
  if (kept) return kept;
  const h = createHash('sha256');
  await new Promise<void>((resolve, reject) => createReadStream(image.disk).on('data', (d) => h.update(d)).on('end', () => resolve()).on('error', reject));
  const digest = h.digest('hex');
  writeFileSync(sumFile, `${digest}\n`);
  return digest;
}

/** Serves the guest images as cloud images (plus one SHA256SUMS for all) on loopback, for download-url. Returns each one's URL, in order. */
async function serveImages(images: readonly GuestImage[]): Promise<{ server: Server; urls: string[]; sumsUrl: string }> {
  const files = await Promise.all(images.map(async (image) => ({ image, name: `ahl-testlab-${image.digest}.qcow2`, sha: await diskSha256(image) })));
  const server = createServer((req, res) => {
    const f = files.find((x) => req.url === `/${x.name}`);
    if (f) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(f.image.disk).size });
      createReadStream(f.image.disk).pipe(res);
    } else if (req.url === '/SHA256SUMS') res.end(files.map((x) => `${x.sha}  ${x.name}\n`).join(''));
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { server, urls: files.map((x) => `${base}/${x.name}`), sumsUrl: `${base}/SHA256SUMS` };
}

export interface LocalLab {
  readonly state: LocalLabState;
  readonly sim: RunningSim;
  readonly network: LabNetwork;
  readonly backend: QemuBackend;
  stop(): Promise<void>;
}

/**
 * Starts the local lab for `lab`: pve-sim with the QEMU backend, the lab's bridges in a network
 * namespace, the guest image served as every cloud image; writes the state, the token (0600) and
 * lab.local.yaml. Leftovers of a crashed lab are cleaned first.
 */
export async function startLocalLab(
  lab: Lab,
  opts: { onStep?: (s: string) => void; taskDurationMs?: number; beforeReady?: (backend: QemuBackend, network: LabNetwork) => Promise<readonly string[]> } = {},
): Promise<LocalLab> {
  const dir = join(lab.root, LOCAL_LAB_DIR);
  const step = opts.onStep ?? (() => undefined);
  step('cleaning leftovers');
  await removeStaleNamespaces();
  rmSync(join(dir, 'run'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  step('guest image (cached unless its recipe changed)');
  const image = await buildImage({ onStep: (s) => step(`image: ${s}`) });
  markImageInUse(image);
  // Templates of another distribution get its image where the local lab can build one (Ubuntu's, cached once built).
  const others: GuestImage[] = [];
  const unavailable: string[] = [];
  const families = new Set(Object.values(lab.images).flatMap((i) => (i.kind === 'cloud' && i.os?.family ? [i.os.family] : [])));
  if (families.has('ubuntu')) {
    step('Ubuntu image (cached unless its recipe changed)');
    const ubuntu = await ubuntuImage({ onStep: (s) => step(`ubuntu image: ${s}`) });
    if ('unavailable' in ubuntu) {
      unavailable.push(`Ubuntu templates get the Debian image: ${ubuntu.unavailable}`);
      step(`✗ ${unavailable.at(-1)}`);
    } else {
      markImageInUse(ubuntu);
      others.push(ubuntu);
    }
  }
  const runId = newRunId();
  step('network namespace');
  const network = await createLabNetwork(runId, localBridges(lab));
  const cleanup: (() => Promise<void>)[] = [() => network.destroy()];
  try {
    const accel = await chooseAccel(image.kernel);
    const backend = new QemuBackend({ dir, network, image, images: others, accel });
    cleanup.unshift(() => backend.stopAll());
    const served = await serveImages([image, ...others]);
    cleanup.unshift(() => new Promise<void>((r) => served.server.close(() => r())));
    const imageUrl = served.urls[0]!;
    const imageUrls = Object.fromEntries(others.map((o, i) => [o.recipe.distro, served.urls[i + 1]!]));
    // Guests reach the mirrors their images were built from (and nothing else) through a proxy on the first bridge's address.
    const gateway = localBridges(lab).find((b) => b.address)?.address?.split('/')[0];
    let aptProxy: AptProxy | undefined;
    if (gateway) {
      step('apt proxy');
      mkdirSync(join(dir, 'run'), { recursive: true });
      aptProxy = await AptProxy.start({ socket: join(dir, 'run', 'apt-proxy.sock'), listenAddress: gateway, mirrors: [...new Set([image, ...others].map((i) => i.mirror))], inNamespace: network.exec });
      const proxy = aptProxy;
      cleanup.unshift(() => proxy.stop());
    }
    const secretFile = join(dir, 'token');
    const secret = existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : randomUUID();
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    step('pve-sim');
    const sim = await startSim({ seed: localSeed(lab, secret), https: true, backend, stateDir: join(dir, 'sim'), taskDurationMs: opts.taskDurationMs ?? 300, authFailureDelayMs: 1000, statsLagMs: 2000 });
    cleanup.unshift(() => sim.stop());
    let state: LocalLabState = {
      pid: process.pid,
      runId,
      namespace: network.namespace,
      endpoint: sim.url,
      fingerprint: sim.fingerprint!,
      tokenId: TOKEN_ID,
      tokenFile: `${LOCAL_LAB_DIR}/token`,
      imageUrl,
      ...(others.length ? { imageUrls } : {}),
      ...(unavailable.length ? { unavailable } : {}),
      accel,
      startedAt: new Date().toISOString(),
    };
    rmSync(join(dir, 'known_hosts'), { force: true });
    const key = await labKey(dir);
    writeFileSync(
      join(lab.root, 'lab.local.yaml'),
      localOverlay(lab, {
        endpoint: sim.url,
        fingerprint: sim.fingerprint!,
        tokenFile: state.tokenFile,
        imageUrl,
        imageUrls,
        sumsUrl: served.sumsUrl,
        namespace: network.namespace,
        ...(aptProxy ? { aptProxy: aptProxy.url } : {}),
        key: { file: `${LOCAL_LAB_DIR}/id_ed25519`, publicKey: key },
      }),
    );
    // Whatever else the lab holds (its bare-metal machines) starts before it is declared up.
    const machines = (await opts.beforeReady?.(backend, network)) ?? [];
    if (machines.length) state = { ...state, machines };
    writeFileSync(join(dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
    let stopped = false;
    return {
      state,
      sim,
      network,
      backend,
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const c of cleanup) await c().catch(() => undefined);
        rmSync(join(dir, 'state.json'), { force: true });
        rmSync(join(dir, 'run'), { recursive: true, force: true });
        rmSync(join(dir, 'volumes'), { recursive: true, force: true });
        rmSync(join(dir, 'sim'), { recursive: true, force: true });
        rmSync(join(dir, 'records'), { recursive: true, force: true });
        rmSync(join(dir, 'known_hosts'), { force: true });
        rmSync(join(lab.root, 'lab.local.yaml'), { force: true });
      },
    };
  } catch (e) {
    for (const c of cleanup) await c().catch(() => undefined);
    throw e;
  }
}

/** A stable locally administered MAC for a stand-in machine whose host declares none. Pure. */
export function standInMac(name: string): string {
  const h = createHash('sha256').update(name).digest();
  return ['02', 'ad', ...[0, 1, 2, 3].map((i) => h[i]!.toString(16).padStart(2, '0'))].join(':').toUpperCase();
}

/** The recorded state of a local lab, if one was started from this checkout. */
export function readLocalLabState(root: string): LocalLabState | undefined {
  const f = join(root, LOCAL_LAB_DIR, 'state.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as LocalLabState) : undefined;
}
