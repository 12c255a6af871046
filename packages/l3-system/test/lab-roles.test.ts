import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLab, Redactor, RESERVED_SYSTEM_TAGS, type Lab } from '@ahl/core';
import { describe, expect, it } from 'vitest';
import { BUNDLED_ROLES } from '../src/content.js';
import { installRequirements } from '../src/requirements.js';
import { ansibleEnv, ansibleGalaxyArgv, ANSIBLE_DIR, convergeSystem, ConvergeError, labRoleNames, requirementSources, SYSTEM_TAGS, systemDigest, systemTags, type PlaybookSpawner } from '../src/index.js';
import { FIXTURES, fixtureLab } from './helpers.js';

/** The unit-test lab copied to a fresh folder (so its files can change), with `edit` applied before loading. */
async function labCopy(edit: (dir: string) => void = () => {}): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-l3-roles-'));
  cpSync(`${FIXTURES}lab`, dir, { recursive: true });
  edit(dir);
  const r = await loadLab(dir, { cache: false });
  if (!r.lab) throw new Error(JSON.stringify(r.errors));
  return r.lab;
}

const STATS = '{"event":"stats","hosts":{"devops-01":{"ok":1,"changed":0,"failures":0,"unreachable":0,"skipped":0,"rescued":0,"ignored":0}}}';

describe('the lab\'s own roles and task files', () => {
  it('adds their tags to the bundled ones for --tags', async () => {
    expect(systemTags(await fixtureLab())).toEqual([...SYSTEM_TAGS, 'hello', 'local_users', 'motd']);
  });

  it('runs a role folder under its last segment, unless another folder ends the same way or a bundled role has that name', async () => {
    const lab = await labCopy((dir) => {
      mkdirSync(join(dir, 'more/motd/tasks'), { recursive: true });
      writeFileSync(join(dir, 'more/motd/tasks/main.yml'), '[]\n');
      const docker = join(dir, 'personas/docker.yaml');
      writeFileSync(docker, readFileSync(docker, 'utf8').replace('    - {role: ./vendor/users/, tag: local_users}\n', '    - {role: ./vendor/users/, tag: local_users}\n    - {role: more/motd, tag: more_motd}\n'));
    });
    expect([...labRoleNames(lab)]).toEqual([
      ['more/motd', join(lab.root, 'more/motd')],
      ['roles/motd', join(lab.root, 'roles/motd')],
      ['vendor/users', join(lab.root, 'vendor/users')],
    ]);
    expect([...labRoleNames(await fixtureLab())]).toEqual([
      ['roles/motd', 'motd'],
      ['vendor/users', join(`${FIXTURES}lab`, 'vendor/users')],
    ]);
  });

  it('runs them from links in the run\'s private folder, searched after the bundled roles', async () => {
    const lab = await fixtureLab();
    const seen: { env?: Record<string, string>; links?: Record<string, string> } = {};
    const spawn: PlaybookSpawner = async (_argv, { env, cwd, onLine }) => {
      seen.env = env;
      seen.links = Object.fromEntries(readdirSync(join(cwd, 'lab-roles')).map((n) => [n, readlinkSync(join(cwd, 'lab-roles', n))]));
      onLine(STATS);
      return { exitCode: 0, stderr: '' };
    };
    await convergeSystem(lab, { targets: ['devops-01'], ansiblePlaybook: '/opt/ansible-playbook', spawn, env: {} });
    expect(seen.links).toEqual({ motd: join(lab.root, 'roles/motd') });
    const [bundled, links, ...parents] = seen.env!.ANSIBLE_ROLES_PATH!.split(':');
    expect(bundled).toBe(join(ANSIBLE_DIR, 'roles'));
    expect(links).toMatch(/\/ahl-l3-[^/]+\/lab-roles$/);
    expect(parents).toEqual([join(lab.root, 'roles'), join(lab.root, 'vendor')]);
    expect(seen.env!.ANSIBLE_COLLECTIONS_PATH).toBeUndefined();
  });

  it('the digest covers their files, the task files and the requirements\' local sources, and nothing else', async () => {
    const lab = await labCopy((dir) => {
      const devops = join(dir, 'personas/devops.yaml');
      writeFileSync(devops, readFileSync(devops, 'utf8').replace('  roles:\n', '  requirements: requirements.yml\n  roles:\n'));
      mkdirSync(join(dir, 'vendor/collection'), { recursive: true });
      writeFileSync(join(dir, 'vendor/collection/galaxy.yml'), 'namespace: lab\n');
      writeFileSync(join(dir, 'vendor/greet.tar.gz'), 'tarball v1');
    });
    const host = lab.hosts.find((h) => h.name === 'devops-01')!;
    const other = lab.hosts.find((h) => h.name === 'docker-01')!;
    const before = await systemDigest(lab, host);
    const otherBefore = await systemDigest(lab, other);
    expect(await systemDigest(lab, host)).toBe(before);
    const changes: [string, string][] = [
      ['roles/motd/templates/motd.j2', '{{ motd_banner }}!\n'],
      ['tasks/hello.yml', '---\n[]\n'],
      ['requirements.yml', readFileSync(join(lab.root, 'requirements.yml'), 'utf8').replace('1.2.0', '1.2.1')],
      ['vendor/greet.tar.gz', 'tarball v2'],
      ['vendor/collection/galaxy.yml', 'namespace: lab2\n'],
    ];
    const seen = new Set([before]);
    for (const [file, text] of changes) {
      writeFileSync(join(lab.root, file), text);
      const now = await systemDigest(lab, host);
      expect(seen.has(now), file).toBe(false);
      seen.add(now);
    }
    // docker-01 runs none of them (its own role is vendor/users).
    expect(await systemDigest(lab, other)).toBe(otherBefore);
    writeFileSync(join(lab.root, 'vendor/users/tasks/main.yml'), '---\n[]\n');
    expect(await systemDigest(lab, other)).not.toBe(otherBefore);
  });
});

describe('system.requirements', () => {
  it('reads the sources of both forms, local ones from the file\'s folder', () => {
    const file = `${FIXTURES}lab/requirements.yml`;
    expect(requirementSources(readFileSync(file, 'utf8'), file)).toEqual([
      { field: 'roles[0].src', value: './vendor/greet.tar.gz', local: `${FIXTURES}lab/vendor/greet.tar.gz` },
      { field: 'roles[1].name', value: 'geerlingguy.swap' },
      { field: 'collections[0].name', value: './vendor/collection', local: `${FIXTURES}lab/vendor/collection` },
    ]);
    expect(requirementSources('- src: file:///srv/roles/x.tar.gz\n- geerlingguy.docker\n- src: https://example.org/r.tar.gz\n- {src: "git+file:///srv/git/role,v1"}\n', '/lab/requirements.yml')).toEqual([
      { field: 'roles[0].src', value: 'file:///srv/roles/x.tar.gz', local: '/srv/roles/x.tar.gz' },
      { field: 'roles[1]', value: 'geerlingguy.docker' },
      { field: 'roles[2].src', value: 'https://example.org/r.tar.gz' },
      { field: 'roles[3].src', value: 'git+file:///srv/git/role,v1', local: '/srv/git/role' },
    ]);
    expect(() => requirementSources('roles: [', '/lab/requirements.yml')).toThrow(/^\/lab\/requirements\.yml is not YAML/);
  });

  it('installs with ansible-galaxy from the file\'s folder into the run\'s own folders', async () => {
    expect(ansibleGalaxyArgv({ ansibleGalaxy: '/venv/bin/ansible-galaxy', requirements: '/lab/requirements.yml' })).toEqual([
      '/venv/bin/ansible-galaxy', 'install', '-r', '/lab/requirements.yml', '--timeout', '30',
    ]);
    const lab = await labCopy((dir) => {
      mkdirSync(join(dir, 'vendor/collection'), { recursive: true });
      writeFileSync(join(dir, 'vendor/greet.tar.gz'), 'x');
    });
    const dir = mkdtempSync(join(tmpdir(), 'ahl-l3-galaxy-'));
    const calls: { argv: readonly string[]; cwd: string; env: Record<string, string> }[] = [];
    const spawn: PlaybookSpawner = async (argv, { env, cwd }) => {
      calls.push({ argv, cwd, env });
      mkdirSync(join(env.ANSIBLE_ROLES_PATH!, 'greet'));
      return { exitCode: 0, stderr: '' };
    };
    const r = await installRequirements(lab, ['requirements.yml'], dir, { ansibleGalaxy: '/g', env: { HOME: '/root' }, spawn, redactor: new Redactor() });
    expect(r).toEqual({ rolesPaths: [join(dir, 'galaxy/0/roles')], collectionsPaths: [join(dir, 'galaxy/0/collections')] });
    expect(calls).toEqual([
      {
        argv: ['/g', 'install', '-r', join(lab.root, 'requirements.yml'), '--timeout', '30'],
        cwd: lab.root,
        env: { HOME: '/root', ANSIBLE_ROLES_PATH: join(dir, 'galaxy/0/roles'), ANSIBLE_COLLECTIONS_PATH: join(dir, 'galaxy/0/collections'), ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' },
      },
    ]);
    expect(ansibleEnv({ contentDir: '/pkg/ansible', inventoryDir: '/tmp/x', ...r }).ANSIBLE_COLLECTIONS_PATH).toBe(`${join(dir, 'galaxy/0/collections')}:~/.ansible/collections:/usr/share/ansible/collections`);
  });

  it('says which source is missing or outside the repository before running anything, and what a failed install printed', async () => {
    const run = async (edit: (dir: string) => void, exitCode = 0) => {
      const lab = await labCopy(edit);
      let ran = false;
      const spawn: PlaybookSpawner = async (_argv, { onLine }) => {
        ran = true;
        onLine('- downloading role from https://galaxy.invalid/x token=hunter2');
        return { exitCode, stderr: 'ERROR! - you can use --ignore-errors to skip failed roles' };
      };
      const redactor = new Redactor();
      redactor.add('hunter2');
      const e = await installRequirements(lab, ['requirements.yml'], mkdtempSync(join(tmpdir(), 'ahl-l3-galaxy-')), { ansibleGalaxy: '/g', env: {}, spawn, redactor }).catch((x: unknown) => x);
      return { e: e as ConvergeError, ran };
    };
    const missing = await run(() => {});
    expect(missing.ran).toBe(false);
    expect(missing.e).toBeInstanceOf(ConvergeError);
    expect(missing.e.code).toBe('REQUIREMENTS_FAILED');
    expect(missing.e.message).toMatch(/^requirements\.yml roles\[0\]\.src names "\.\/vendor\/greet\.tar\.gz", which does not exist \(.*\/vendor\/greet\.tar\.gz\)$/);

    const outside = await run((dir) => {
      writeFileSync(join(dir, 'requirements.yml'), `roles:\n  - {name: x, src: "file://${tmpdir()}"}\n`);
    });
    expect(outside.ran).toBe(false);
    expect(outside.e.message).toMatch(/^requirements\.yml roles\[0\]\.src names "file:\/\/.*", which resolves to .*, outside the lab repository$/);

    const failed = await run((dir) => writeFileSync(join(dir, 'requirements.yml'), 'roles:\n  - {name: geerlingguy.swap}\n'), 1);
    expect(failed.ran).toBe(true);
    expect(failed.e.message).toBe('/g install -r ' + `${failed.e.command[3]} --timeout 30 exited with status 1: requirements.yml could not be installed`);
    expect(failed.e.output).toBe('- downloading role from https://galaxy.invalid/x token=********\nERROR! - you can use --ignore-errors to skip failed roles');
    expect(failed.e.hint).toMatch(/must be reachable from this machine/);
    expect(failed.e.toJSON().labChanged).toBe(false);
  });

  it('refuses two requirements files that install a role of the same name', async () => {
    const lab = await labCopy((dir) => {
      writeFileSync(join(dir, 'requirements.yml'), 'roles:\n  - {name: geerlingguy.swap}\n');
      writeFileSync(join(dir, 'more.yml'), 'roles:\n  - {name: geerlingguy.swap}\n');
    });
    const spawn: PlaybookSpawner = async (_argv, { env }) => {
      mkdirSync(join(env.ANSIBLE_ROLES_PATH!, 'geerlingguy.swap'));
      return { exitCode: 0, stderr: '' };
    };
    await expect(installRequirements(lab, ['more.yml', 'requirements.yml'], mkdtempSync(join(tmpdir(), 'ahl-l3-galaxy-')), { ansibleGalaxy: '/g', env: {}, spawn, redactor: new Redactor() })).rejects.toThrow(
      'both more.yml and requirements.yml install a role named geerlingguy.swap',
    );
  });

  it('a converge installs the requirements of the hosts it runs on before ansible-playbook, once per file', async () => {
    const lab = await labCopy((dir) => {
      for (const p of ['devops', 'docker']) {
        const f = join(dir, `personas/${p}.yaml`);
        writeFileSync(f, readFileSync(f, 'utf8').replace('  roles:\n', '  requirements: requirements.yml\n  roles:\n'));
      }
      writeFileSync(join(dir, 'requirements.yml'), 'roles:\n  - {name: geerlingguy.swap}\n');
    });
    const argvs: string[][] = [];
    const spawn: PlaybookSpawner = async (argv, { env, onLine }) => {
      argvs.push([...argv]);
      if (argv[1] === 'install') return { exitCode: 0, stderr: '' };
      expect(env.ANSIBLE_ROLES_PATH!.split(':')[2]).toMatch(/\/galaxy\/0\/roles$/);
      onLine(STATS.replace('devops-01', 'docker-01'));
      onLine(STATS);
      return { exitCode: 0, stderr: '' };
    };
    const bin = mkdtempSync(join(tmpdir(), 'ahl-l3-bin-'));
    writeFileSync(join(bin, 'ansible-galaxy'), '');
    await convergeSystem(lab, { targets: ['devops-01', 'docker-01'], ansiblePlaybook: join(bin, 'ansible-playbook'), spawn, env: {} });
    expect(argvs.map((a) => a.slice(0, 2))).toEqual([
      [join(bin, 'ansible-galaxy'), 'install'],
      [join(bin, 'ansible-playbook'), '--inventory'],
    ]);
    // No ansible-galaxy beside ansible-playbook: said before anything runs.
    await expect(convergeSystem(lab, { targets: ['devops-01'], ansiblePlaybook: '/nonexistent/ansible-playbook', spawn, env: {} })).rejects.toThrow('ansible-galaxy was not found beside /nonexistent/ansible-playbook');
  });
});

describe('bundled content and the schema agree', () => {
  it('every bundled role is a folder of roles/, and no lab role may take a bundled tag or role name', () => {
    expect(readdirSync(join(ANSIBLE_DIR, 'roles')).sort()).toEqual([...BUNDLED_ROLES]);
    expect(RESERVED_SYSTEM_TAGS).toEqual(expect.arrayContaining([...SYSTEM_TAGS, ...BUNDLED_ROLES]));
    expect(existsSync(join(ANSIBLE_DIR, 'tasks/lab_step.yml'))).toBe(true);
  });
});
