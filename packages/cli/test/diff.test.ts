import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLab, recordApplied, type Host, type Lab } from '@ahl/core';
import { diffLabs } from '@ahl/ops';
import { beforeAll, describe, expect, it } from 'vitest';
import { ahl, exampleLabCopy, REPO } from './helpers.js';

/** The example lab in a temporary Git repository, one commit per change of intent. */
describe('ahl diff', () => {
  let dir: string;
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  const edit = (file: string, from: string, to: string) => {
    const text = readFileSync(join(dir, file), 'utf8');
    if (!text.includes(from)) throw new Error(`${file} has no ${from}`);
    writeFileSync(join(dir, file), text.replace(from, to));
  };
  const commit = (message: string) => {
    git('add', '-A');
    git('commit', '-qm', message);
    return git('rev-parse', '--short', 'HEAD');
  };

  beforeAll(() => {
    dir = exampleLabCopy();
    writeFileSync(join(dir, '.gitignore'), 'lab.local.yaml\n.ahl/\n');
    git('init', '-q', '-b', 'main');
    commit('the example lab');
    edit('personas/docker.yaml', '    vmid: 301\n', '    vmid: 301\n    resources: {memory: 12288}\n');
    commit('docker-01 gets more memory');
    edit('personas/devops.yaml', 'packages: [', 'packages: [tree, ');
    commit('devops gets tree');
    mkdirSync(join(dir, 'stacks/echo'));
    writeFileSync(join(dir, 'stacks/echo/compose.yaml'), 'services:\n  echo:\n    image: busybox\n    ports: ["9000:9000"]\n');
    edit('personas/docker.yaml', 'workloads:\n', 'workloads:\n  - stack: echo\n');
    commit('docker hosts run echo');
    edit('personas/docker.yaml', /\n  docker-03:\n[^]*$/.exec(readFileSync(join(dir, 'personas/docker.yaml'), 'utf8'))![0], '\n');
    commit('docker-03 goes');
  });

  it('a host\'s memory: an update in place on that host only', async () => {
    const r = await ahl(['diff', 'HEAD~4', 'HEAD~3', '--json', '--dir', dir]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.hosts).toEqual([{ host: 'docker-01', persona: 'docker', status: 'changed', changes: [{ layer: 'L2', path: 'resources.memory', before: 8192, after: 12288, action: 'update' }] }]);
    expect(d.counts).toEqual({ added: 0, removed: 0, changed: 1, dangerous: 0 });
  });

  it('a package: an L3 converge of the persona\'s host', async () => {
    const d = JSON.parse((await ahl(['diff', 'HEAD~3', 'HEAD~2', '--json', '--dir', dir])).stdout);
    const change = { layer: 'L3', path: 'system.packages', before: expect.any(Array), after: expect.arrayContaining(['tree']), action: 'converge' };
    expect(d.hosts).toEqual([
      { host: 'devops-01', persona: 'devops', status: 'changed', changes: [change] },
      { host: 'devops-nuc', persona: 'devops', status: 'changed', changes: [change] },
    ]);
  });

  it('a stack: created on every host of the persona', async () => {
    const d = JSON.parse((await ahl(['diff', 'HEAD~2', 'HEAD~1', '--json', '--dir', dir])).stdout);
    expect(d.hosts.map((h: { host: string; changes: { path: string; action: string }[] }) => [h.host, h.changes.map((c) => `${c.path} ${c.action}`)])).toEqual([
      ['docker-01', ['workloads.echo create']],
      ['docker-02', ['workloads.echo create']],
      ['docker-03', ['workloads.echo create']],
    ]);
  });

  it('a removed host: destroy, with its data at risk, listed first in the markdown', async () => {
    const r = await ahl(['diff', 'HEAD~1', 'HEAD', '--format', 'markdown', '--exit-code', '--dir', dir]);
    expect(r.code).toBe(1);
    const base = git('rev-parse', '--short', 'HEAD~1');
    const head = git('rev-parse', '--short', 'HEAD');
    expect(r.stdout).toBe(
      [
        `### ahl: intent \`${base}\` → \`${head}\``,
        '',
        '**0 added · 0 changed · 1 removed** · ⚠️ **1 with dangerous changes**',
        '',
        '#### ⚠️ Dangerous',
        '',
        '- **docker-03**: destroy — `vm: − docker on pve1` (the VM is destroyed)',
        '- **docker-03**: data at risk — `data: − ["/srv/whoami/data","/srv/uptime-kuma"]` (its data goes with the VM; backups of /srv/whoami/data, /srv/uptime-kuma stay on the backup target)',
        '',
        '#### Hosts',
        '',
        '| | layer | change | action |',
        '|---|---|---|---|',
        '| ➖ **docker-03** | L2 | `vm: − docker on pve1` | destroy ⚠️ |',
        '|  | L4 | `data: − ["/srv/whoami/data","/srv/uptime-kuma"]` | destroy ⚠️ |',
        '',
      ].join('\n'),
    );
  });

  it('defaults: from the last applied commit to the working tree, without ignored files', async () => {
    await recordApplied(dir, { commit: git('rev-parse', 'HEAD~1'), dirty: false, at: new Date().toISOString(), command: 'converge system' });
    writeFileSync(join(dir, 'lab.local.yaml'), 'proxmox: {endpoint: "https://127.0.0.1:8006"}\n');
    edit('stacks/whoami/compose.yaml', 'services:', '# a comment\nservices:');
    const r = await ahl(['diff', '--json', '--dir', dir]);
    const d = JSON.parse(r.stdout);
    expect(d.base).toBe(git('rev-parse', '--short', 'HEAD~1'));
    expect(d.head).toBe('working tree');
    expect(d.lab).toEqual([]);
    expect(d.hosts.map((h: { host: string; status: string; changes: { path: string }[] }) => [h.host, h.status, h.changes.map((c) => c.path)])).toEqual([
      ['docker-01', 'changed', ['stacks/whoami/']],
      ['docker-02', 'changed', ['stacks/whoami/']],
      ['docker-03', 'removed', ['vm', 'data']],
    ]);
    git('checkout', '-q', '--', 'stacks');
    rmSync(join(dir, 'lab.local.yaml'));
    rmSync(join(dir, '.ahl'), { recursive: true });
    const none = await ahl(['diff', '--dir', dir]);
    expect(none.stderr).toBe(`intent ${git('rev-parse', '--short', 'HEAD')} → working tree\nno changes\n`);
  });

  it('names a ref Git does not know, and an invalid lab at a ref, with the ref', async () => {
    const r = await ahl(['diff', 'nope', '--dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^GIT_FAILED: `git archive --format=tar nope -- \.` failed: /m);
    edit('lab.yaml', 'name: allans-home-lab', 'name: Not A Name');
    const bad = await ahl(['diff', 'HEAD', '--dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^working tree: lab\.yaml:\d+:\d+ name: /m);
    git('checkout', '-q', '--', 'lab.yaml');
  });
});

describe('diffLabs', () => {
  it('a node move or a shrinking disk replaces the VM, and data that is not backed up is at risk', async () => {
    const lab = (await loadLab(REPO)).lab!;
    const edit = (f: (h: Host) => Host): Lab => ({ ...lab, hosts: lab.hosts.map((h) => (h.name === 'docker-01' ? f(h) : h)) });
    const noBackup = edit((h) => ({ ...h, workloads: h.workloads.map((w) => ({ ...w, data: w.data.map((d) => ({ ...d, backup: false })) })) }));
    const side = (l: Lab) => ({ lab: l, stackDigests: new Map<string, string>() });
    const moved = diffLabs(side(noBackup), side({ ...noBackup, hosts: noBackup.hosts.map((h) => (h.name === 'docker-01' ? { ...h, node: 'pve2', resources: { ...h.resources, disk: 32 } } : h)) }), { base: 'a', head: 'b' });
    expect(moved.hosts[0]!.changes.map((c) => [c.layer, c.path, c.action, c.danger])).toEqual([
      ['L2', 'node', 'replace', 'replace'],
      ['L2', 'resources.disk', 'replace', 'replace'],
      ['L4', 'data', 'replace', 'data at risk'],
    ]);
    const grown = diffLabs(side(lab), side(edit((h) => ({ ...h, resources: { ...h.resources, disk: 128, cores: 8 } }))), { base: 'a', head: 'b' });
    expect(grown.hosts[0]!.changes.map((c) => [c.path, c.action, c.danger])).toEqual([
      ['resources.cores', 'update', undefined],
      ['resources.disk', 'update', undefined],
    ]);
    expect(grown.counts.dangerous).toBe(0);
  });

  it('passthrough disks by slot: attached by ahl passthrough, never detached, a swapped disk left to the operator', async () => {
    const lab = (await loadLab(REPO)).lab!;
    const side = (l: Lab) => ({ lab: l, stackDigests: new Map<string, string>() });
    const nas = lab.hosts.find((h) => h.name === 'nas-01')!;
    const [one, two] = nas.passthrough as [Host['passthrough'][number], Host['passthrough'][number]];
    const next: Host = {
      ...nas,
      passthrough: [
        { ...two, device: '/dev/disk/by-id/ata-NEW_DISK_X2', options: { ...two.options } },
        { slot: 'scsi3', device: '/dev/disk/by-id/ata-NEW_DISK_X3', options: { backup: false } },
        { ...one, slot: 'scsi4', options: { ...one.options, iothread: true } },
      ],
    };
    const d = diffLabs(side(lab), side({ ...lab, hosts: lab.hosts.map((h) => (h.name === 'nas-01' ? next : h)) }), { base: 'a', head: 'b' });
    expect(d.hosts[0]!.changes.map((c) => [c.path, c.before, c.after, c.note])).toEqual([
      ['passthrough.scsi1', one.device, undefined, 'ahl never detaches a disk: it stays attached, reported, until detached by hand'],
      ['passthrough.scsi2', two.device, '/dev/disk/by-id/ata-NEW_DISK_X2', 'the slot holds the old disk: `ahl passthrough` reports a conflict until it is swapped by hand'],
      ['passthrough.scsi3', undefined, '/dev/disk/by-id/ata-NEW_DISK_X3', 'attached by `ahl passthrough --approve`'],
      ['passthrough.scsi4', undefined, one.device, 'attached by `ahl passthrough --approve`'],
    ]);
    const opts = diffLabs(side(lab), side({ ...lab, hosts: lab.hosts.map((h) => (h.name === 'nas-01' ? { ...nas, passthrough: [{ ...one, options: { ...one.options, iothread: true } }, two] } : h)) }), { base: 'a', head: 'b' });
    expect(opts.hosts[0]!.changes).toEqual([{ layer: 'L2', path: 'passthrough.scsi1.options.iothread', after: true, action: 'update', note: 'set in place' }]);
  });
});
