// Shared by bench/versus and bench/clones: pve-sim (in process, HTTPS, API token) seeded with one node
// and a cloud-init template, an ahl lab folder of N VMs pointing at it (lab.yaml, the image, its built
// manifest and channel, one persona), and runners for the real CLI and for terraform in ahl's workspace.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');
export const SECRET = '5e5e5e5e-1111-4222-8333-444444444444';
export const PROVIDER_VERSION = '0.80.0';
const CACHE = process.env.AHL_CACHE_DIR ?? join(homedir(), '.cache/ahl');
export const MIRROR = join(CACHE, 'terraform/mirror');
const PROVIDER = join(MIRROR, `registry.terraform.io/bpg/proxmox/${PROVIDER_VERSION}/linux_amd64/terraform-provider-proxmox_v${PROVIDER_VERSION}`);
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR bench@ahl';
const NODE = 'pve1';

/** Why the benchmark cannot run here (undefined: it can). */
export function missingTools() {
  const tf = spawnSync('terraform', ['version', '-json'], { encoding: 'utf8' });
  if (tf.error || tf.status !== 0) return 'terraform is not on PATH';
  if (!existsSync(PROVIDER)) return `the bpg/proxmox ${PROVIDER_VERSION} provider is not in the filesystem mirror (${PROVIDER}; scripts/bootstrap builds it)`;
  if (!existsSync(join(ROOT, 'packages/pve-sim/dist/index.js'))) return 'pve-sim is not built (pnpm --filter @ahl/pve-sim build)';
  if (!existsSync(BIN)) return 'the CLI is not built (pnpm build)';
  return undefined;
}

export function terraformVersion() {
  return JSON.parse(spawnSync('terraform', ['version', '-json'], { encoding: 'utf8' }).stdout).terraform_version;
}

/** Starts the sim: one node, local + local-lvm, the token, template 9000 (scsi0 + cloud-init drive, agent). */
export async function startBenchSim(options = {}) {
  const { startSim } = await import(join(ROOT, 'packages/pve-sim/dist/index.js'));
  return startSim({
    https: true,
    authFailureDelayMs: 0,
    statsLagMs: 0,
    ...options,
    seed: {
      pveVersion: '9.1.1',
      clusterName: 'bench',
      seed: 17,
      nodes: [{ name: NODE, ip: '10.0.0.11', cpus: 256, memoryGiB: 4096, bridges: [{ iface: 'vmbr0', cidr: '10.0.0.11/24', gateway: '10.0.0.1', ports: 'eno1', vlanAware: true }] }],
      storages: [
        { id: 'local', type: 'dir', path: '/var/lib/vz', content: ['iso', 'vztmpl', 'import', 'backup', 'snippets'], size: 1000 },
        { id: 'local-lvm', type: 'lvmthin', content: ['images', 'rootdir'], size: '40T' },
      ],
      users: [{ id: 'ahl@pve', tokens: [{ id: 'ahl', secret: SECRET, privsep: false }] }],
      acl: [{ path: '/', roles: ['Administrator'], users: ['ahl@pve'] }],
      guests: [
        {
          vmid: 9000,
          node: NODE,
          name: 'noble-20261101-120000',
          template: true,
          config: {
            memory: '2048',
            cores: 2,
            scsihw: 'virtio-scsi-pci',
            scsi0: 'local-lvm:base-9000-disk-0,size=3G',
            ide2: 'local-lvm:vm-9000-cloudinit,media=cdrom',
            net0: 'virtio=BC:24:11:00:90:00,bridge=vmbr0',
            agent: '1',
            boot: 'order=scsi0',
            serial0: 'socket',
            vga: 'serial0',
          },
        },
      ],
    },
  });
}

/** Writes an ahl lab of n VMs (persona `fleet`, hosts host-0…, vmid 1000+i) for `sim` into a new temp folder. */
export function writeLab(sim, n, prefix) {
  const dir = mkdtempSync(join(tmpdir(), `ahl-bench-${prefix}-`));
  const manifest = {
    image: 'noble',
    version: '20261101-120000',
    vmid: 9000,
    node: NODE,
    storage: 'local-lvm',
    templateName: 'noble-20261101-120000',
    source: { url: 'https://cloud-images.example/noble.img', digest: 'sha256:00' },
    specDigest: 'sha256:00',
    toolVersion: 'bench',
    createdAt: '2026-11-01T12:00:00Z',
  };
  const hosts = Array.from({ length: n }, (_, i) => `  host-${i}: {node: ${NODE}, ip: 10.1.${Math.floor(i / 250)}.${(i % 250) + 2}/16, gateway: 10.1.255.254, vmid: ${1000 + i}}`).join('\n');
  const files = {
    'lab.yaml': `name: bench\nproxmox: {endpoint: "${sim.url}", tokenId: "ahl@pve!ahl", tokenSecret: "env:T", tls: {verify: false, fingerprint: "${sim.fingerprint}"}}\nnodes: {${NODE}: {}}\ndefaults: {storage: {vm: local-lvm, iso: local, import: local, snippets: local}}\ncloudInit: {user: lab, sshKeys: ["${KEY}"]}\n`,
    'images/noble.yaml': 'os: {family: ubuntu, release: noble}\nsource: {url: "https://cloud-images.example/noble.img", checksum: "sha256:0000000000000000000000000000000000000000000000000000000000000000"}\ntemplate: {vmid: 9000}\n',
    'images/noble/artifacts/20261101-120000.json': JSON.stringify(manifest),
    'images/noble/channels.json': JSON.stringify({ channels: { stable: '20261101-120000' }, history: {} }),
    'personas/fleet.yaml': `description: bench fleet\ntemplate: noble@stable\nresources: {cores: 1, memory: 1024, disk: 8}\ndns: [10.0.0.1]\nsearchDomain: lab.test\nhosts:\n${hosts}\n`,
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

/** Runs a command asynchronously (the sim answers from this process's event loop); resolves {code, ms, stdout, stderr}. */
export function exec(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    execFile(cmd, args, { maxBuffer: 512 << 20, ...opts }, (err, stdout, stderr) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, ms, stdout, stderr });
    });
  });
}

/** The real CLI, a fresh process: `ahl <args> --dir <dir>`, with the token in T. */
export function ahl(dir, args) {
  return exec(process.execPath, [BIN, ...args, '--dir', dir], { env: { ...process.env, T: SECRET } });
}

/** terraform in ahl's rendered workspace (<lab>/.ahl/terraform), with the environment ahl gives it. */
export function terraformIn(dir, sim, args) {
  const ws = join(dir, '.ahl/terraform');
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TF_') || k.startsWith('PROXMOX_VE_')) delete env[k];
  Object.assign(env, {
    PROXMOX_VE_ENDPOINT: `${sim.url}/`,
    PROXMOX_VE_API_TOKEN: `ahl@pve!ahl=${SECRET}`,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    TF_PLUGIN_CACHE_DIR: join(CACHE, 'terraform/plugin-cache'),
    TF_CLI_CONFIG_FILE: join(ws, 'cli.tfrc'),
  });
  return exec('terraform', args, { cwd: ws, env });
}

/** Total calls and errors in a sim.stats snapshot, with the top endpoints. */
export function callsOf(snapshot, top = 5) {
  const per = Object.entries(snapshot).map(([endpoint, s]) => ({ endpoint, count: s.count, errors: s.errors }));
  per.sort((a, b) => b.count - a.count || a.endpoint.localeCompare(b.endpoint));
  return { total: per.reduce((s, x) => s + x.count, 0), errors: per.reduce((s, x) => s + x.errors, 0), top: per.slice(0, top) };
}

export function tail(text, lines = 30) {
  return String(text).split('\n').slice(-lines).join('\n');
}
