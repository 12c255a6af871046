import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectLab, loadLab, Secrets, type ProxmoxClient } from '@ahl/core';
import { listNamespaces, readLocalLabState, ssh, waitForSsh, type LocalLabState, type SshTarget } from '@ahl/testlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recorded, secretSweep } from '../../../test-support/secret-sweep.js';
import { ahl as runAhl, writeTree } from './helpers.js';

/** Everything each `ahl` run printed, for the secret sweep. */
const outputs: string[] = [];
const ahl = recorded(outputs, runAhl);

/*
 * The local lab end to end, as an operator drives it: `ahl lab up`, `ahl runway`, `ahl image build`
 * (download-url of the testlab image, import, template), `ahl up` creating the VMs with Terraform and the
 * bpg/proxmox provider as real QEMU guests, converging them and deploying their stack (Docker Compose),
 * `ahl drift` clean and then not, `ahl rebuild` of a host whose stack holds data (stopped midway, then
 * resumed), and `ahl lab down`. No registry is reachable from the local lab: the stack's image is built
 * in the guest, from nothing, and runs the guest's static busybox.
 */
describe('the local lab', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-local-lab-'));
  const key = join(dir, 'id_ed25519');
  let state: LocalLabState;
  let client: ProxmoxClient;
  const target = (ip: string): SshTarget => ({ host: ip, user: 'lab', key, inNamespace: (argv) => ['ip', 'netns', 'exec', state.namespace, ...argv] });
  // L2 finds terraform on PATH (the provider in the cache mirror under HOME).
  const tf = { PATH: process.env.PATH ?? '' };
  const health = async (ip: string) =>
    (await ssh(target(ip), `sudo docker inspect -f '{{.State.Health.Status}}' $(sudo docker ps -q --filter label=com.docker.compose.project=web)`)).stdout.trim();

  beforeAll(async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'e2e', '-f', key]);
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    const files: Record<string, string> = {
      'lab.yaml': `name: e2e\nproxmox:\n  endpoint: https://pve.invalid:8006\n  tokenId: ahl@pve!ahl\n  tokenSecret: env:PM_TOKEN_SECRET\nnodes:\n  pve1: {}\ndefaults:\n  storage: {vm: local-lvm, iso: local, import: local, snippets: local}\n  bridge: vmbr0\ncloudInit:\n  user: lab\n  sshKeys: [${pub}]\nssh: {privateKey: id_ed25519}\n` +
        // web-02 keeps the backups (of both hosts): web-01 is the one rebuilt.
        'workloads: {root: /opt/stacks, dataRoots: [/srv]}\nbackup: {target: {kind: rsync, host: 10.79.0.12, user: lab, path: /srv/backup}}\n',
      'images/debian-bookworm.yaml': 'os: {family: debian, release: bookworm}\nsource:\n  url: https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2\n  checksumUrl: https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS\ntemplate: {vmid: 9000, memory: 1024}\n',
      'personas/web.yaml':
        'template: debian-bookworm@stable\nresources: {memory: 1024, disk: 8}\nsystem:\n  files:\n    - {path: /etc/ahl-motd, content: "web: managed by ahl\\n"}\n  unattendedUpgrades: false\n  monitoring: {nodeExporter: {enabled: false}}\n  containerEngine: {kind: docker, source: distro}\n' +
        'workloads:\n  - stack: web\n    env: {WEB_PORT: 8080}\n    data: [{path: /srv/web/data, backup: true}]\n    quiesce: true\n' +
        'backup: {schedule: "*-*-* 03:00:00", maxAge: 26h, keep: 3}\nhosts:\n  web-01: {node: pve1, ip: 10.79.0.11/24, gateway: 10.79.0.1, vmid: 301}\n  web-02: {node: pve1, ip: 10.79.0.12/24, gateway: 10.79.0.1, vmid: 302, ' +
        // A second disk and a second NIC, as a small NAS has: made by pve-sim on the real guest, set up in it by L3.
        'disks: [{slot: scsi1, size: 1, backup: false, mount: {path: /srv/archive, label: archive}}], nics: [{bridge: vmbr1, mac: "BC:24:11:79:01:12", ip: 10.79.1.12/24}]}\n',
      'stacks/web/compose.yaml': [
        'services:',
        '  web:',
        '    build: .',
        '    image: ahl-e2e-web:local',
        '    command: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]',
        '    ports: ["${WEB_PORT}:8080"]',
        '    restart: unless-stopped',
        '    volumes:',
        '      - /bin/busybox:/bin/busybox:ro',
        '      - /srv/web/data:/www/data',
        '    healthcheck:',
        '      test: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]',
        '      interval: 5s',
        '',
      ].join('\n'),
      'stacks/web/Dockerfile': 'FROM scratch\nCOPY index.html /www/index.html\n',
      'stacks/web/.dockerignore': '.env\n',
      'stacks/web/index.html.j2': '{{ inventory_hostname }}\n',
      // A physical machine: no VM of ahl's; it boots a stock image with the seed ISO `ahl image seed` writes.
      'personas/metal.yaml': 'template: debian-bookworm@stable\nhosts:\n  nuc-01: {runtime: baremetal, ip: 10.79.0.21/24, gateway: 10.79.0.1, mac: "02:AD:00:00:00:21"}\n',
    };
    writeTree(dir, files);
    const up = await ahl(['lab', 'up', '--dir', dir]);
    if (up.code !== 0) throw new Error(`ahl lab up failed:\n${up.stderr}`);
    state = readLocalLabState(dir)!;
    const { lab } = await loadLab(dir);
    client = await connectLab(lab!.config, new Secrets({ env: {}, baseDir: dir }), dir);
  });

  afterAll(async () => {
    await client?.close();
    await ahl(['lab', 'down', '--dir', dir]);
    // Issue #22: with the lab down, its token is in nothing ahl printed and nowhere under .ahl/ but
    // its own file, which `tokenSecret: file:.ahl/lab/token` pointed at and the next `ahl lab up` reuses.
    const tokenFile = join(dir, '.ahl/lab/token');
    const token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '';
    expect(secretSweep(join(dir, '.ahl'), { 'proxmox token': token }, outputs, { skip: [tokenFile] })).toEqual([]);
  });

  it('is up, with lab.local.yaml pointing ahl at it', async () => {
    const s = await ahl(['lab', 'status', '--json', '--dir', dir]);
    expect(s.code).toBe(0);
    // The bare-metal host is a machine of the lab's own, running beside the node.
    expect(JSON.parse(s.stdout)).toMatchObject({ up: true, endpoint: state.endpoint, tokenId: 'ahl@pve!ahl', machines: [{ name: 'nuc-01', status: 'running' }] });
    expect(readFileSync(join(dir, 'lab.local.yaml'), 'utf8')).toContain(`endpoint: ${state.endpoint}`);
    expect((await ahl(['validate', '--dir', dir])).code).toBe(0);
  });

  it('passes the runway (only the template is missing yet)', async () => {
    const r = await ahl(['runway', '--dir', dir]);
    expect(r.stderr).toMatch(/^WARN \d+ passed, 1 warning, 0 failed$/m);
    expect(r.code).toBe(0);
  });

  it('builds the template with L1 from the served image, through download-url', async () => {
    const r = await ahl(['image', 'build', 'debian-bookworm', '--dir', dir]);
    expect(r.stderr).toMatch(/✓ built debian-bookworm-\d{8}-\d{6} \(vmid 9000\), now debian-bookworm@stable/);
    expect(r.code).toBe(0);
  });

  it('ahl up: Terraform (bpg/proxmox) clones and configures both VMs, they boot as declared, and L3 converges them after their first boot', async () => {
    const r = await ahl(['up', 'web', '--approve', '--json', '--dir', dir], { env: { ...tf, AHL_LOG_FORMAT: 'text' } });
    expect(r.code, r.stderr).toBe(0);
    const layers = (JSON.parse(r.stdout) as { layers: { layer: string; state: string; items: string[] }[] }).layers;
    expect(layers.map((l) => [l.layer, l.state])).toEqual([
      ['L0', 'ok'],
      ['L1', 'ok'],
      ['L2', 'done'],
      ['L3', 'done'],
      ['L4', 'done'],
    ]);
    expect(layers[2]!.items).toEqual([expect.stringMatching(/^web-01: created/), expect.stringMatching(/^web-02: created/)]);
    // Both stacks built, up and healthy, each host's page served across the lab network.
    expect((await ssh(target('10.79.0.12'), 'curl -sf http://10.79.0.11:8080/')).stdout.trim()).toBe('web-01');
    expect((await ssh(target('10.79.0.11'), 'curl -sf http://10.79.0.12:8080/')).stdout.trim()).toBe('web-02');
    expect(await health('10.79.0.12')).toBe('healthy');
    expect((await ssh(target('10.79.0.11'), 'hostname')).stdout.trim()).toBe('web-01');
    expect((await ssh(target('10.79.0.12'), 'hostname')).stdout.trim()).toBe('web-02');
    // The disk was grown to the persona's 8 GiB, and cloud-init grew / into it.
    const root = await ssh(target('10.79.0.11'), 'df -B1 --output=size / | tail -1');
    expect(Number(root.stdout.trim())).toBeGreaterThan(6 * 1024 ** 3);
    expect((await ssh(target('10.79.0.11'), 'cat /etc/ahl-motd')).stdout.trim()).toBe('web: managed by ahl');
    expect((await ssh(target('10.79.0.11'), 'ping -c1 -w60 10.79.0.12; echo rc=$?')).stdout).toContain('rc=0');
    const config = await client.request<Record<string, unknown>>('GET', '/nodes/pve1/qemu/302/config');
    expect(config).toMatchObject({ name: 'web-02', memory: '1024', ciuser: 'lab' });
    expect(String(config.tags).split(';')).toContain('web');
    // web-02's second disk is formatted, labelled and mounted by L3; its second NIC holds its address on vmbr1.
    expect(String(config.scsi1)).toMatch(/serial=ahl-scsi1/);
    expect((await ssh(target('10.79.0.12'), 'findmnt -n -o SOURCE,FSTYPE,SIZE /srv/archive; lsblk -n -o LABEL /dev/disk/by-id/virtio-ahl-scsi1')).stdout.trim().split(/\s+/)).toEqual([
      expect.stringMatching(/^\/dev\/vd[a-z]$/), 'ext4', expect.stringMatching(/^(9\d\d(\.\d)?M|1(\.0)?G)$/), 'archive',
    ]);
    expect((await ssh(target('10.79.0.12'), 'grep -c LABEL=archive /etc/fstab')).stdout.trim()).toBe('1');
    expect((await ssh(target('10.79.1.12'), 'ip -br address show dev eth1')).stdout).toMatch(/^eth1\s+UP\s+10\.79\.1\.12\/24/);
  });

  it('Terraform refreshes from the real guests and plans no change', async () => {
    const r = await ahl(['apply', 'web', '--json', '--dir', dir], { env: tf });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { plan: { changes: boolean; counts: Record<string, number> } }).plan).toMatchObject({ changes: false, counts: { 'no-op': 2 } });
  });

  it('reports real state: status/current and the guest agent', async () => {
    const st = await client.request<{ status: string }>('GET', '/nodes/pve1/qemu/301/status/current');
    expect(st.status).toBe('running');
    const agent = await client.request<{ result: { name: string; 'ip-addresses'?: { 'ip-address': string }[] }[] }>('GET', '/nodes/pve1/qemu/301/agent/network-get-interfaces');
    expect(agent.result.flatMap((i) => i['ip-addresses'] ?? []).map((a) => a['ip-address'])).toContain('10.79.0.11');
  });

  it('ahl status: both guests running on the current template, from one API call (no backup taken yet: flagged)', async () => {
    const r = await ahl(['status', 'web', '--json', '--dir', dir]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { calls: number; hosts: { host: string; vm?: { power: string }; template: { state: string }; drift: string[] }[] };
    expect(report.calls).toBe(1);
    expect(report.hosts.map((h) => [h.host, h.vm?.power, h.template.state, h.drift])).toEqual([
      ['web-01', 'running', 'current', ['backup']],
      ['web-02', 'running', 'current', ['backup']],
    ]);
  });

  it('status shows the converge ahl up made', async () => {
    const st = JSON.parse((await ahl(['status', 'web-01', '--json', '--dir', dir])).stdout) as { hosts: { system?: { status: string } }[] };
    expect(st.hosts[0]?.system?.status).toMatch(/^(ok|changed)$/);
  });

  it('ahl drift reports a change of intent (more memory) as "intent changed", with the command that applies it', async () => {
    const file = join(dir, 'personas/web.yaml');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, before.replace('memory: 1024', 'memory: 1536'));
    try {
      const r = await ahl(['drift', 'web-01', '--layer', 'L2', '--json', '--dir', dir], { env: tf });
      expect(r.code, r.stderr).toBe(1);
      expect((JSON.parse(r.stdout) as { findings: unknown[] }).findings).toEqual([
        { layer: 'L2', host: 'web-01', cause: 'intent changed', what: ['memory.0.dedicated: 1024 → 1536'], reconcile: 'ahl apply web-01 --approve', terraform: 'update' },
      ]);
    } finally {
      writeFileSync(file, before);
    }
  });

  it('a drift check of every layer from a timer finds only a hand-made change, exits 1 and tells the webhook; reconcile puts it back', async () => {
    const received: unknown[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const env = { HOOK: `http://127.0.0.1:${(hook.address() as { port: number }).port}/drift` };
    try {
      await ssh(target('10.79.0.11'), 'echo changed by hand | sudo tee /etc/ahl-motd >/dev/null');
      // Both hosts, every layer: the one hand-made change is all there is (the rest is clean).
      const drift = await ahl(['drift', 'web', '--json', '--notify', 'env:HOOK', '--dir', dir], { env: { ...env, ...tf } });
      expect(drift.code, drift.stderr).toBe(1);
      const report = JSON.parse(drift.stdout) as { layers: { layer: string; checked: boolean; hosts: string[]; unchecked: unknown[] }[] };
      expect(report.layers.filter((l) => l.checked).map((l) => l.layer)).toEqual(expect.arrayContaining(['L2', 'L3', 'L4']));
      expect(report.layers.filter((l) => l.layer === 'L3' || l.layer === 'L4').map((l) => [l.hosts, l.unchecked])).toEqual([
        [['web-01', 'web-02'], []],
        [['web-01', 'web-02'], []],
      ]);
      expect(received).toEqual([
        expect.objectContaining({
          lab: 'e2e',
          clean: false,
          findings: [{ layer: 'L3', host: 'web-01', cause: 'changed outside ahl', what: expect.arrayContaining([expect.stringMatching(/files/)]), reconcile: 'ahl converge system web-01' }],
        }),
      ]);
      const fixed = await ahl(['reconcile', 'web-01', '--layer', 'L3', '--notify', 'env:HOOK', '--dir', dir], { env });
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(received[1]).toMatchObject({ lab: 'e2e', clean: true, reconciled: [{ layer: 'L3', host: 'web-01' }], awaitingApproval: [], failed: [] });
      expect((await ssh(target('10.79.0.11'), 'cat /etc/ahl-motd')).stdout.trim()).toBe('web: managed by ahl');
    } finally {
      hook.close();
    }
  });

  it('ahl power reboot: a real rolling reboot, each guest back with its agent before the next', async () => {
    const bootId = (ip: string) => ssh(target(ip), 'cat /proc/sys/kernel/random/boot_id').then((r) => r.stdout.trim());
    const before = [await bootId('10.79.0.11'), await bootId('10.79.0.12')];
    const dry = await ahl(['power', 'reboot', 'web', '--dir', dir]);
    expect(dry.stderr).toContain('dry run: 2 hosts would reboot; nothing was changed');
    const r = await ahl(['power', 'reboot', 'web', '--approve', '--timeout', '900', '--json', '--dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { results: { host: string; status: string }[] }).results.map((x) => [x.host, x.status])).toEqual([
      ['web-01', 'done'],
      ['web-02', 'done'],
    ]);
    // web-01 was back (its agent answering) before web-02 went down.
    expect(r.stderr.indexOf('✓ web-01')).toBeLessThan(r.stderr.indexOf('web-02: reboot…'));
    await Promise.all([waitForSsh(target('10.79.0.11'), 10 * 60_000, () => ''), waitForSsh(target('10.79.0.12'), 10 * 60_000, () => '')]);
    const after = [await bootId('10.79.0.11'), await bootId('10.79.0.12')];
    expect(after[0]).not.toBe(before[0]);
    expect(after[1]).not.toBe(before[1]);
  });

  it('ahl rebuild of a host whose stack holds data: stopped after the system converge, resumed, the data back and the stack healthy', async () => {
    const web01 = target('10.79.0.11');
    const sums = 'sudo sha256sum /srv/web/data/blob /srv/web/data/note.txt';
    await ssh(web01, 'sudo sh -c "head -c 65536 /dev/urandom > /srv/web/data/blob && echo durable > /srv/web/data/note.txt"');
    const data = (await ssh(web01, sums)).stdout;
    expect(data).toMatch(/^[0-9a-f]{64} {2}\/srv\/web\/data\/blob\n/);
    const bootId = (await ssh(web01, 'cat /proc/sys/kernel/random/boot_id')).stdout.trim();

    // The plan: no backup yet, so one is taken first; nothing changes.
    const plan = await ahl(['rebuild', 'web-01', '--dir', dir], { env: tf });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toMatch(/recreate +destroy vmid 301 on pve1 \(running\) with its disks, then create it again from debian-bookworm@stable/);
    expect(plan.stderr).toContain('nothing was changed (--approve to rebuild)');

    // A failure injected after the system phase: the VM is new (its data gone), the backup kept.
    const t0 = Date.now();
    const failed = await ahl(['rebuild', 'web-01', '--approve', '--json', '--dir', dir], { env: { ...tf, AHL_REBUILD_FAIL_AFTER: 'system' } });
    expect(failed.code, failed.stderr).toBe(1);
    const rec = (JSON.parse(failed.stdout) as { record: { done: string[]; failed: { phase: string }; snapshot: { id: string } } }).record;
    expect(rec).toMatchObject({ done: ['backup', 'recreate', 'system'], failed: { phase: 'restore' }, snapshot: { id: expect.stringMatching(/^\d{8}T\d{6}Z$/) } });
    expect(failed.stderr).toContain(`Its data is safe in backup ${rec.snapshot.id}. Fix the cause, then: ahl rebuild web-01 --resume --approve`);
    // The new guest answers, but under load (both guest tiers at once) its first answers may take longer than ssh's 5 s connect timeout.
    await waitForSsh(web01, 120_000, () => '(the rebuilt web-01 did not answer SSH)');
    const newBoot = await ssh(web01, 'cat /proc/sys/kernel/random/boot_id');
    expect(newBoot.exitCode, newBoot.stderr).toBe(0);
    expect(newBoot.stdout.trim()).not.toBe(bootId);
    const fresh = await ssh(web01, 'cat /etc/ahl-motd; test -e /srv/web/data/note.txt || echo no-data');
    expect(fresh.stdout.trim(), fresh.stderr).toBe('web: managed by ahl\nno-data');
    expect((await ahl(['rebuild', 'web-01', '--approve', '--dir', dir], { env: tf })).stderr).toContain('a rebuild of web-01 is unfinished (restore failed');

    const resumed = await ahl(['rebuild', 'web-01', '--resume', '--approve', '--json', '--dir', dir], { env: tf });
    expect(resumed.code, resumed.stderr).toBe(0);
    const done = (JSON.parse(resumed.stdout) as { record: { done: string[]; took: Record<string, number> } }).record;
    expect(done.done).toEqual(['backup', 'recreate', 'system', 'restore', 'workload']);
    expect(resumed.stderr).toContain(`rebuilt web-01 from debian-bookworm@stable`);
    expect(resumed.stderr).toContain(`data from backup ${rec.snapshot.id}; its stacks are healthy`);
    process.stderr.write(`e2e rebuild of web-01 (failed after system, then resumed): ${((Date.now() - t0) / 1000).toFixed(0)} s; by phase (ms): ${JSON.stringify(done.took)}\n`);
    expect((await ssh(web01, sums)).stdout).toBe(data);
    expect(await health('10.79.0.11')).toBe('healthy');
    expect((await ssh(target('10.79.0.12'), 'curl -sf http://10.79.0.11:8080/data/note.txt')).stdout.trim()).toBe('durable');
    // The backup host trusts the new VM's backup key in place of the old one's, not beside it.
    const key = (await ssh(web01, 'sudo cat /var/lib/ahl/backup/id_ed25519.pub')).stdout.trim();
    expect((await ssh(target('10.79.0.12'), "grep ' ahl-backup@web-01$' /home/lab/.ssh/authorized_keys")).stdout.trim()).toBe(`restrict ${key}`);
    // Its backup is the one the rebuild took: status has nothing to flag.
    const st = JSON.parse((await ahl(['status', 'web-01', '--json', '--dir', dir])).stdout) as { hosts: { vm?: { power: string }; template: { state: string }; drift: string[] }[] };
    expect(st.hosts[0]).toMatchObject({ vm: { power: 'running' }, template: { state: 'current' }, drift: [] });
  });

  it('ahl destroy removes a guest with Terraform, leaving no disk behind', async () => {
    const r = await ahl(['destroy', 'web-02', '--approve', '--dir', dir], { env: tf });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('web-02 destroyed');
    expect(await client.request('GET', '/nodes/pve1/qemu/302/status/current').catch((e: Error) => e.message)).toMatch(/does not exist/);
    expect(readdirSync(join(dir, '.ahl/lab/volumes/local-lvm')).filter((f) => f.includes('302'))).toEqual([]);
  });

  it('a bare-metal host: `ahl lab up` made it a machine booting the stock image with its `ahl image seed` seed, and it came up as declared', async () => {
    // The seed the operator would write for the physical machine: the stand-in booted these documents.
    const seed = await ahl(['image', 'seed', 'nuc-01', '--print', '--dir', dir]);
    expect(seed.code, seed.stderr).toBe(0);
    const instanceId = /^instance-id: (\S+)$/m.exec(seed.stdout)?.[1];
    expect(instanceId).toMatch(/^ahl-nuc-01-[0-9a-f]{12}$/);
    const serial = () => {
      const f = join(dir, '.ahl/lab/run/metal/nuc-01/serial.log');
      return existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(-40).join('\n') : '(no serial log)';
    };
    await waitForSsh(target('10.79.0.21'), 10 * 60_000, serial);
    // sshd answers while cloud-init is still at work on a first boot (and may restart it): wait for
    // cloud-init to finish, and retry a command whose connection failed (ssh's own exit status 255).
    const onMetal = async (command: string) => {
      let r = await ssh(target('10.79.0.21'), command);
      for (let i = 0; i < 20 && r.exitCode === 255; i++) {
        await new Promise((res) => setTimeout(res, 3000));
        r = await ssh(target('10.79.0.21'), command);
      }
      return r;
    };
    await onMetal('cloud-init status --wait');
    expect((await onMetal('cloud-init query instance_id')).stdout.trim()).toBe(instanceId);
    const name = await onMetal('hostname');
    expect(name.stdout.trim(), `${name.stderr}\n${serial()}`).toBe('nuc-01');
    expect((await onMetal('sudo -n true && echo sudo')).stdout.trim()).toBe('sudo');
    const ping = await onMetal('ping -c1 -w60 10.79.0.11; echo rc=$?');
    expect(ping.stdout, ping.stderr).toContain('rc=0');
    // A physical machine, not a guest of the node: Proxmox does not know it.
    const vms = (await client.request<{ name?: string }[]>('GET', '/cluster/resources', { type: 'vm' })) ?? [];
    expect(vms.map((v) => v.name)).not.toContain('nuc-01');
  });

  it('goes down leaving no process, namespace or file', async () => {
    const down = await ahl(['lab', 'down', '--dir', dir]);
    expect(down.code).toBe(0);
    expect(await listNamespaces()).not.toContain(state.namespace);
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(join(dir, '.ahl/lab/run'));
    expect(existsSync(join(dir, 'lab.local.yaml'))).toBe(false);
    expect(existsSync(join(dir, '.ahl/lab/volumes'))).toBe(false);
    expect((await ahl(['lab', 'status', '--dir', dir])).code).toBe(1);
  });
});
