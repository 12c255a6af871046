// Writes a synthetic lab of `personas` personas with `hostsPerPersona` hosts each, shaped like the
// example lab (system section, a workload, static addresses), for the validation benchmark.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR bench@ahl';

export function generateLab(dir, { personas = 200, hostsPerPersona = 5, nodes = 3 } = {}) {
  for (const d of ['images', 'personas', 'stacks/web']) mkdirSync(join(dir, d), { recursive: true });
  const nodeNames = Array.from({ length: nodes }, (_, i) => `pve${i + 1}`);
  writeFileSync(
    join(dir, 'lab.yaml'),
    `name: bench\nproxmox:\n  endpoint: https://pve.bench:8006\n  tokenId: ahl@pve!bench\n  tokenSecret: env:PM_TOKEN_SECRET\nnodes:\n${nodeNames.map((n) => `  ${n}: {}`).join('\n')}\ncloudInit:\n  sshKeys:\n    - ${KEY}\n`,
  );
  writeFileSync(join(dir, 'images/ubuntu-noble.yaml'), 'os: {family: ubuntu, release: noble}\nsource:\n  url: https://images.bench/noble.img\n  checksumUrl: https://images.bench/SHA256SUMS\n');
  writeFileSync(join(dir, 'stacks/web/compose.yaml'), 'services:\n  web:\n    image: busybox\n');
  let n = 0;
  for (let p = 0; p < personas; p++) {
    const hosts = [];
    for (let h = 0; h < hostsPerPersona; h++, n++) {
      const ip = `10.${Math.floor(n / 250)}.${n % 250}.${10 + (n % 200)}`;
      hosts.push(
        `  p${p}-h${h}:\n    node: ${nodeNames[n % nodes]}\n    ip: ${ip}/8\n    gateway: 10.255.255.254\n    vmid: ${1000 + n}\n    mac: 02:00:00:${hex(n >> 16)}:${hex((n >> 8) & 255)}:${hex(n & 255)}\n    tags: [bench]\n`,
      );
    }
    writeFileSync(
      join(dir, `personas/persona-${p}.yaml`),
      `description: persona ${p}\ntemplate: ubuntu-noble@stable\nresources: {cores: 2, memory: 2048, disk: 32}\nsystem:\n  packages: [curl, jq]\n  users:\n    - name: lab\n      groups: [sudo]\n      sshKeys: [${KEY}]\n      sudo: nopasswd\n  containerEngine: {kind: docker}\nworkloads:\n  - stack: web\n    env: {PORT: 8080}\n    data:\n      - path: /srv/web\nhosts:\n${hosts.join('')}`,
    );
  }
  return { personas, hosts: n };
}

const hex = (v) => v.toString(16).padStart(2, '0');
