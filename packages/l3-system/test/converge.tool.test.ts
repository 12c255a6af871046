import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLab, MemoryReporter, type Lab } from '@ahl/core';
import { buildImage, GuestLab, newRunId, ssh, type Guest } from '@ahl/testlab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretSweep, type SecretFinding } from '../../../test-support/secret-sweep.js';
import { convergeSystem, type ConvergeOptions, type ConvergeResult } from '../src/index.js';

/*
 * The tool tier: real ansible-playbook with the bundled content against real Debian guests.
 * One lab serves the whole file, and the tests run in order on it: a first converge, a second one
 * (idempotence), then drift made by hand, seen by --check and repaired. devops-1 and tinker-1 are
 * booted; tinker-2 is declared but never started, so it is the host that is down.
 */
describe('converge system on real guests', () => {
  let lab: GuestLab;
  let model: Lab;
  let devops: Guest;
  let tinker: Guest;
  let opts: ConvergeOptions;
  const runId = newRunId();
  const times: Record<string, number> = {};
  /** What each converge returned, for the secret sweep. */
  const outputs: string[] = [];

  const as = (g: Guest, user: string) => ({ ...g.ssh, user });
  const run = async (o: Partial<ConvergeOptions> = {}): Promise<ConvergeResult> => {
    const t0 = Date.now();
    const r = await convergeSystem(model, { ...opts, ...o });
    outputs.push(JSON.stringify(r));
    process.stderr.write(`converge ${o.targets?.join(',') ?? 'all'}${o.check ? ' --check' : ''}: ${Date.now() - t0} ms ${JSON.stringify(r.hosts.map((h) => [h.host, h.status, h.counts.changed]))}\n`);
    return r;
  };
  const host = (r: ConvergeResult, name: string) => r.hosts.find((h) => h.host === name)!;

  beforeAll(async () => {
    // No removeStaleNamespaces() here: it would kill a lab another test file is running at the same
    // time; testlab's own tier cleans leftovers.
    const image = await buildImage({ onStep: (s) => process.stderr.write(`testlab image: ${s}\n`) });
    lab = await GuestLab.start({ runId, image });
    [devops, tinker] = await Promise.all([
      lab.addGuest({ name: 'devops-1', ip: '10.77.0.11/24', mac: 'BC:24:11:77:00:11', clone: 'linked' }),
      lab.addGuest({ name: 'tinker-1', ip: '10.77.0.12/24', mac: 'BC:24:11:77:00:12', clone: 'linked' }),
    ]);
    await Promise.all([lab.waitReady(devops), lab.waitReady(tinker)]);
    const proxy = await lab.startAptProxy();
    const pub = readFileSync(lab.publicKeyFile, 'utf8').trim();
    const dir = join(lab.runDir, 'lab');
    mkdirSync(join(dir, 'images'), { recursive: true });
    mkdirSync(join(dir, 'personas'), { recursive: true });
    writeFileSync(
      join(dir, 'lab.yaml'),
      [
        'name: l3-tool',
        'proxmox: {endpoint: "https://pve.invalid:8006", tokenId: "ahl@pve!ahl", tokenSecret: "env:PM_TOKEN_SECRET"}',
        'nodes: {pve1: {}}',
        `cloudInit: {user: lab, sshKeys: ["${pub}"]}`,
        `ssh: {privateKey: "${lab.key}", hostKeyPolicy: accept-new}`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'images/debian-bookworm.yaml'),
      'os: {family: debian, release: bookworm}\nsource: {url: "https://cloud.debian.org/d.qcow2", checksumUrl: "https://cloud.debian.org/SHA512SUMS"}\n',
    );
    writeFileSync(join(dir, 'motd'), 'from a source file\n');
    writeFileSync(
      join(dir, 'personas/devops.yaml'),
      `template: debian-bookworm@stable
system:
  timezone: Europe/London
  aptProxy: "${proxy}"
  packages: [tree]
  removeUndeclaredUsers: true
  users:
    - {name: ops, groups: [docker, sudo], sshKeys: ["${pub}"], sudo: nopasswd}
  directories:
    - {path: /srv/ahl, owner: ops, group: ops, mode: "0750"}
  files:
    - {path: /etc/ahl-motd, content: "devops: managed by ahl\\n", mode: "0644"}
    - {path: /etc/ahl-source, source: motd, mode: "0640"}
    - {path: /etc/ahl-jinja, content: "{{ lookup('pipe', 'touch ${join(dir, 'canary')}') }}", mode: "0644"}
  services:
    - {name: ssh}
  monitoring: {nodeExporter: {listen: ":9100"}}
  containerEngine: {kind: docker, source: distro}
hosts:
  devops-1: {node: pve1, ip: 10.77.0.11/24, gateway: 10.77.0.1}
`,
    );
    writeFileSync(
      join(dir, 'personas/tinker.yaml'),
      `template: debian-bookworm@stable
system:
  aptProxy: "${proxy}"
  packages: [jq]
  unattendedUpgrades: false
  monitoring: {nodeExporter: {listen: ":9110"}}
hosts:
  tinker-1: {node: pve1, ip: 10.77.0.12/24, gateway: 10.77.0.1}
  tinker-2: {node: pve1, ip: 10.77.0.13/24, gateway: 10.77.0.1}
`,
    );
    const loaded = await loadLab(dir);
    if (!loaded.lab) throw new Error(JSON.stringify(loaded.errors));
    model = loaded.lab;
    opts = { knownHostsFile: join(lab.runDir, 'known_hosts'), wrap: lab.network.exec };
    // A login user nobody declares any more: removeUndeclaredUsers must remove it.
    expect((await ssh(devops.ssh, 'sudo useradd -m -s /bin/bash olduser && echo made')).stdout.trim()).toBe('made');
  });

  afterAll(async () => {
    // Issue #22: L3's one secret, the lab's SSH private key (Ansible is given its path), is in no
    // result and nowhere under .ahl/. Swept before destroy() removes the lab.
    let findings: SecretFinding[] = [];
    try {
      if (model) findings = secretSweep(join(model.root, '.ahl'), { 'SSH private key': readFileSync(lab.key, 'utf8').trim() }, outputs);
    } finally {
      await lab?.destroy();
      process.stderr.write(`converge tool tier: ${JSON.stringify(times)}\n`);
    }
    expect(findings).toEqual([]);
  });

  it('converges the reachable hosts and reports the one that is down as unreachable', async () => {
    const reporter = new MemoryReporter();
    const t0 = Date.now();
    const r = await run({ reporter });
    times.first = Date.now() - t0;
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBe(4);
    expect(r.hosts.map((h) => [h.host, h.status])).toEqual([
      ['devops-1', 'changed'],
      ['tinker-1', 'changed'],
      ['tinker-2', 'unreachable'],
    ]);
    expect(host(r, 'tinker-2').unreachable).toMatch(/10\.77\.0\.13/);
    expect(host(r, 'devops-1').failed).toEqual([]);
    expect(host(r, 'devops-1').changed.map((c) => c.task)).toContain('users : Create the declared users');
    // Live progress arrived per host and task.
    expect(reporter.events.some((e) => e.target === 'tinker-2' && e.status === 'failed' && e.detail?.startsWith('unreachable'))).toBe(true);
    expect(reporter.events.some((e) => e.target === 'devops-1' && e.status === 'changed')).toBe(true);
  });

  it('leaves the declared user with its key, groups and sudo, and removes the undeclared one', async () => {
    const r = await ssh(as(devops, 'ops'), 'id -nG && sudo -n true && echo sudo-ok && getent passwd ops | cut -d: -f7');
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split('\n')[0]!.split(' ').sort()).toEqual(['docker', 'ops', 'sudo']);
    expect(r.stdout).toContain('sudo-ok');
    expect(r.stdout.trim().endsWith('/bin/bash')).toBe(true);
    expect((await ssh(devops.ssh, 'getent passwd olduser || echo gone')).stdout.trim()).toBe('gone');
  });

  it('installed a package that was not in the image, through the apt proxy', async () => {
    expect((await ssh(devops.ssh, 'dpkg-query -W -f=\'${Status}\' tree')).stdout).toBe('install ok installed');
    expect((await ssh(tinker.ssh, 'command -v jq')).stdout.trim()).toBe('/usr/bin/jq');
  });

  it('hardened sshd: no root, no passwords, validated drop-in', async () => {
    const r = await ssh(devops.ssh, 'sudo sshd -T | grep -E "^(permitrootlogin|passwordauthentication|kbdinteractiveauthentication) " | sort; test -f /etc/ssh/sshd_config.d/00-ahl.conf && echo drop-in');
    expect(r.stdout.trim().split('\n')).toEqual(['kbdinteractiveauthentication no', 'passwordauthentication no', 'permitrootlogin no', 'drop-in']);
    // The server itself refuses: root with the lab's key, and anyone with a password.
    const root = await ssh(as(devops, 'root'), 'true');
    expect(root.exitCode).not.toBe(0);
    expect(root.stderr).toMatch(/Permission denied \(publickey\)/);
    const methods = await ssh(devops.ssh, 'ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o PreferredAuthentications=password,keyboard-interactive -o PubkeyAuthentication=no nobody@localhost true 2>&1; true');
    expect(methods.stdout).toMatch(/Permission denied \(publickey\)/);
  });

  it('set timezone, hostname, files and directories with their owner and mode', async () => {
    const r = await ssh(devops.ssh, 'cat /etc/timezone; hostname; stat -c "%U:%G %a" /srv/ahl /etc/ahl-motd /etc/ahl-source; cat /etc/ahl-motd; sudo cat /etc/ahl-source');
    expect(r.stdout.trim().split('\n')).toEqual(['Europe/London', 'devops-1', 'ops:ops 750', 'root:root 644', 'root:root 640', 'devops: managed by ahl', 'from a source file']);
  });

  it('writes lab text as data: a Jinja lookup in a file\'s content is copied, never run on the controller', async () => {
    const canary = join(lab.runDir, 'lab', 'canary');
    expect((await ssh(devops.ssh, 'cat /etc/ahl-jinja')).stdout).toBe(`{{ lookup('pipe', 'touch ${canary}') }}`);
    expect(existsSync(canary)).toBe(false);
  });

  it('runs node_exporter where each persona says, Docker where asked, and unattended upgrades as declared', async () => {
    expect((await ssh(devops.ssh, 'curl -s http://10.77.0.11:9100/metrics | grep -c "^node_uname_info"')).stdout.trim()).toBe('1');
    expect((await ssh(tinker.ssh, 'curl -s http://10.77.0.12:9110/metrics | grep -c "^node_uname_info"')).stdout.trim()).toBe('1');
    expect((await ssh(devops.ssh, 'systemctl is-active docker; systemctl is-enabled docker; sudo docker info --format "{{.ServerVersion}}" >/dev/null && echo engine-ok')).stdout.trim().split('\n')).toEqual(['active', 'enabled', 'engine-ok']);
    expect((await ssh(tinker.ssh, 'systemctl is-active docker || true')).stdout.trim()).toBe('inactive');
    expect((await ssh(devops.ssh, 'apt-config dump APT::Periodic::Unattended-Upgrade')).stdout).toContain('"1"');
    expect((await ssh(tinker.ssh, 'apt-config dump APT::Periodic::Unattended-Upgrade')).stdout).toContain('"0"');
  });

  it('changes nothing on a second run (changed=0 on every host)', async () => {
    const t0 = Date.now();
    const r = await run({ targets: ['devops-1', 'tinker-1'] });
    times.second = Date.now() - t0;
    expect(r.ok).toBe(true);
    expect(r.exitCode).toBe(0);
    for (const h of r.hosts) {
      expect(h.counts.changed, `${h.host}: ${JSON.stringify(h.changed)}`).toBe(0);
      expect(h.status).toBe('ok');
    }
  });

  it('--check reports exactly the drift made by hand, and a converge repairs it', async () => {
    expect((await ssh(devops.ssh, 'echo tampered | sudo tee /etc/ahl-motd >/dev/null && echo done')).stdout.trim()).toBe('done');
    const t0 = Date.now();
    const check = await run({ targets: ['devops-1', 'tinker-1'], check: true });
    times.check = Date.now() - t0;
    expect(check.check).toBe(true);
    expect(host(check, 'tinker-1').status).toBe('ok');
    const d = host(check, 'devops-1');
    expect(d.status).toBe('changed');
    expect(d.changed.map((c) => c.task)).toEqual(['files : Write the declared files']);
    expect(d.changed[0]!.diff).toContain('-tampered');
    expect(d.changed[0]!.diff).toContain('+devops: managed by ahl');
    // --check changed nothing.
    expect((await ssh(devops.ssh, 'cat /etc/ahl-motd')).stdout.trim()).toBe('tampered');

    const repair = await run({ targets: ['devops'] });
    expect(repair.hosts.map((h) => [h.host, h.status, h.changed.map((c) => c.task)])).toEqual([['devops-1', 'changed', ['files : Write the declared files']]]);
    expect((await ssh(devops.ssh, 'cat /etc/ahl-motd')).stdout.trim()).toBe('devops: managed by ahl');
  });

  it('as ahl up runs it, leaves alone the hosts nothing changed for since their last converge, and converges one whose intent changed', async () => {
    const t0 = Date.now();
    const same = await run({ targets: ['devops-1', 'tinker-1'], skipUnchanged: true });
    times.unchanged = Date.now() - t0;
    expect(same.hosts.map((h) => [h.host, h.status, h.unchanged ?? false])).toEqual([
      ['devops-1', 'ok', true],
      ['tinker-1', 'ok', true],
    ]);
    expect((await ssh(devops.ssh, 'cat /var/lib/ahl/system.digest')).stdout).toMatch(/^[0-9a-f]{64}$/);

    const file = join(model.root, 'personas/devops.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('devops: managed by ahl', 'devops: managed by ahl, again'));
    const reloaded = await loadLab(model.root);
    model = reloaded.lab!;
    const changed = await run({ targets: ['devops-1', 'tinker-1'], skipUnchanged: true });
    expect(changed.hosts.map((h) => [h.host, h.status, h.unchanged ?? false, h.changed.map((c) => c.task)])).toEqual([
      ['devops-1', 'changed', false, ['files : Write the declared files']],
      ['tinker-1', 'ok', true, []],
    ]);
    expect((await ssh(devops.ssh, 'cat /etc/ahl-motd')).stdout.trim()).toBe('devops: managed by ahl, again');
  });
});
