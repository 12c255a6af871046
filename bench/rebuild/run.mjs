#!/usr/bin/env node
// bench/rebuild: `ahl rebuild` on the local lab (real QEMU guests, real Terraform, Ansible and Docker
// Compose), wall time split by phase. First `ahl up --approve` brings three hosts from nothing: app-1
// runs a stack whose data is backed up to vault-1; vault-2 is a second plain host. A second
// `ahl up --approve`, with nothing changed, is every layer's no-op (target: 20 s for the 3 guests).
// Then data is written and app-1 is rebuilt: backup, recreate (Terraform -replace), system (L3 after
// the first boot), restore, workload (L4, healthy).
// Needs root, terraform and the bpg/proxmox provider in the mirror (scripts/bootstrap).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { missingTools } from '../ahl-lab.mjs';
import { record, table } from '../lib.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const skip = (why) => {
  process.stdout.write(`\nrebuild: skipped (${why})\n`);
  process.exit(0);
};
if (process.getuid?.() !== 0) skip('needs root for network namespaces and debootstrap');
const missing = missingTools();
if (missing) skip(missing);

const run = promisify(execFile);
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'ahl-bench-rebuild-'));
const ahl = async (args, env = {}) => {
  const t0 = process.hrtime.bigint();
  try {
    const r = await run(process.execPath, [BIN, ...args, '--dir', dir], { env: { ...process.env, NO_COLOR: '1', ...env }, maxBuffer: 64 << 20 });
    return { ...r, ms: Math.round(Number(process.hrtime.bigint() - t0) / 1e6) };
  } catch (e) {
    throw new Error(`ahl ${args.join(' ')} failed (exit ${e.code}):\n${e.stderr}`);
  }
};

const key = join(dir, 'id_ed25519');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench', '-f', key]);
const pub = readFileSync(`${key}.pub`, 'utf8').trim();
const system = 'system:\n  unattendedUpgrades: false\n  monitoring: {nodeExporter: {enabled: false}}\n';
const files = {
  'lab.yaml': `name: bench-rebuild\nproxmox: {endpoint: "https://pve.invalid:8006", tokenId: "ahl@pve!ahl", tokenSecret: "env:X"}\nnodes: {pve1: {}}\ndefaults:\n  storage: {vm: local-lvm, iso: local, import: local, snippets: local}\ncloudInit: {user: lab, sshKeys: ["${pub}"]}\nssh: {privateKey: id_ed25519}\nworkloads: {root: /opt/stacks, dataRoots: [/srv]}\nbackup: {target: {kind: rsync, host: 10.79.0.12, user: lab, path: /srv/backup}}\n`,
  'images/debian-bookworm.yaml': 'os: {family: debian, release: bookworm}\nsource:\n  url: https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2\n  checksumUrl: https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS\ntemplate: {vmid: 9000, memory: 1024}\n',
  'personas/app.yaml': `template: debian-bookworm@stable\nresources: {memory: 1024, disk: 8}\n${system}  containerEngine: {kind: docker, source: distro}\nworkloads:\n  - stack: web\n    data: [{path: /srv/web/data, backup: true}]\nbackup: {schedule: daily, maxAge: 26h}\nhosts:\n  app-1: {node: pve1, ip: 10.79.0.11/24, gateway: 10.79.0.1, vmid: 301}\n`,
  'personas/vault.yaml': `template: debian-bookworm@stable\nresources: {memory: 1024, disk: 8}\n${system}hosts:\n  vault-1: {node: pve1, ip: 10.79.0.12/24, gateway: 10.79.0.1, vmid: 302}\n  vault-2: {node: pve1, ip: 10.79.0.13/24, gateway: 10.79.0.1, vmid: 303}\n`,
  // No registry is reachable from the local lab: the image is built in the guest and runs its static busybox.
  'stacks/web/compose.yaml':
    'services:\n  web:\n    build: .\n    image: bench-web:local\n    command: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n    ports: ["8080:8080"]\n    volumes: ["/bin/busybox:/bin/busybox:ro", "/srv/web/data:/www/data"]\n',
  'stacks/web/Dockerfile': 'FROM scratch\nCOPY index.html /www/index.html\n',
  'stacks/web/index.html': 'bench\n',
};
for (const [rel, text] of Object.entries(files)) {
  mkdirSync(join(dir, rel, '..'), { recursive: true });
  writeFileSync(join(dir, rel), text);
}

const rows = [];
try {
  await ahl(['lab', 'up']);
  await ahl(['image', 'build', 'debian-bookworm']);
  const up = await ahl(['up', '--approve']);
  rows.push({ measure: 'ahl up --approve: 3 VMs from nothing (create, L3, L4)', median_ms: up.ms });
  const again = await ahl(['up', '--approve']);
  rows.push({ measure: 'ahl up --approve again, nothing changed: 3 VMs, every layer a no-op', median_ms: again.ms, target_ms: 20_000 });
  const ns = JSON.parse((await ahl(['lab', 'status', '--json'])).stdout).namespace;
  const sh = (cmd) =>
    execFileSync('ip', ['netns', 'exec', ns, 'ssh', '-q', '-i', key, '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', 'lab@10.79.0.11', cmd], { encoding: 'utf8' });
  sh('sudo sh -c "head -c 1048576 /dev/urandom > /srv/web/data/blob"');
  const before = sh('sudo sha256sum /srv/web/data/blob');
  const r = await ahl(['rebuild', 'app-1', '--approve', '--json']);
  const rec = JSON.parse(r.stdout).record;
  if (sh('sudo sha256sum /srv/web/data/blob') !== before) throw new Error('the data did not come back');
  rows.push({ measure: 'ahl rebuild app-1 --approve (total)', median_ms: r.ms });
  for (const [phase, ms] of Object.entries(rec.took ?? {})) rows.push({ measure: `  phase ${phase}`, median_ms: ms });
} finally {
  await ahl(['lab', 'down']).catch((e) => process.stderr.write(`${e.message}\n`));
  rmSync(dir, { recursive: true, force: true });
}
table('rebuild', rows);
record('rebuild', { rows });
