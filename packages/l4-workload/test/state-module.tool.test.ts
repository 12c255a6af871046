import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findAnsiblePlaybook } from '@ahl/l3-system';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKLOAD_ANSIBLE_DIR } from '../src/index.js';

/*
 * The tool tier of the bundled read-only module (ansible/library/ahl_state.py) that lets a deploy
 * write only what differs: run as Ansible runs a module (its JSON arguments, the Python and
 * ansible-core of ansible-playbook), on files made here. Root, as the deploy runs it: files must be
 * root's to be unchanged.
 */
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const python = readFileSync(findAnsiblePlaybook(), 'utf8').split('\n')[0]!.replace(/^#!\s*/, '').trim();

function state(args: Record<string, unknown>): { stdout: string; result: Record<string, any> } {
  const argsFile = join(dir, 'args.json');
  writeFileSync(argsFile, JSON.stringify({ ANSIBLE_MODULE_ARGS: args }));
  const r = spawnSync(python, [join(WORKLOAD_ANSIBLE_DIR, 'library', 'ahl_state.py'), argsFile], { encoding: 'utf8' });
  expect(r.status, r.stderr || r.stdout).toBe(0);
  return { stdout: r.stdout, result: JSON.parse(r.stdout) };
}

const dir = mkdtempSync(join(tmpdir(), 'ahl-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ahl_state, the read-only module of an L4 deploy', () => {
  it('lists the files whose content, mode or owner differ, the folders to make, and reads what it is asked to', async () => {
    expect(process.getuid?.(), 'the tool tier runs as root').toBe(0);
    const root = join(dir, 'stacks');
    mkdirSync(join(root, 'web'), { recursive: true, mode: 0o750 });
    chmodSync(join(root, 'web'), 0o750);
    chmodSync(root, 0o755);
    writeFileSync(join(root, 'web/compose.yaml'), 'services: {}\n', { mode: 0o644 });
    writeFileSync(join(root, 'web/wrong-mode.conf'), 'x\n', { mode: 0o600 });
    writeFileSync(join(root, 'web/changed.conf'), 'old\n', { mode: 0o644 });
    writeFileSync(join(root, 'web/.env'), 'TOKEN=s3cr3t-module\n', { mode: 0o600 });
    writeFileSync(join(root, 'web/.ahl-stack'), 'marker\n');
    mkdirSync(join(root, 'gone'));
    writeFileSync(join(root, 'gone/.ahl-stack'), 'marker\n');
    mkdirSync(join(root, 'not-ours'));
    mkdirSync(join(dir, 'data'), { mode: 0o700 });
    chmodSync(join(dir, 'data'), 0o700);
    writeFileSync(join(dir, 'digest'), 'abc123');
    const { stdout, result } = state({
      root,
      dirs: [
        { path: root, mode: '0755' },
        { path: join(root, 'web'), mode: '0750' },
        { path: join(dir, 'data'), mode: '0755', any_owner: true },
        { path: join(dir, 'missing'), mode: '0755' },
      ],
      files: [
        { dest: join(root, 'web/compose.yaml'), sha256: sha('services: {}\n'), mode: '0644' },
        { dest: join(root, 'web/wrong-mode.conf'), sha256: sha('x\n'), mode: '0644' },
        { dest: join(root, 'web/changed.conf'), sha256: sha('new\n'), mode: '0644' },
        { dest: join(root, 'web/missing.conf'), sha256: sha('m\n'), mode: '0644' },
        { dest: join(root, 'web/.env'), mode: '0600' },
      ],
      content: { [join(root, 'web/.env')]: 'TOKEN=s3cr3t-module\n' },
      read: [join(dir, 'digest'), join(dir, 'no-such-file')],
      checks: { yes: ['true'], no: ['false'] },
    });
    expect(result.changed).toBe(false);
    expect(result.write).toEqual([join(root, 'web/wrong-mode.conf'), join(root, 'web/changed.conf'), join(root, 'web/missing.conf')]);
    expect(result.make).toEqual([join(dir, 'data'), join(dir, 'missing')]);
    expect(result.read).toEqual({ [join(dir, 'digest')]: 'abc123', [join(dir, 'no-such-file')]: null });
    expect(result.deployed).toEqual(['gone', 'web']);
    expect(result.checks).toEqual({ yes: 0, no: 1 });
    // The .env is compared inside the module: neither it nor its digest is in what the module returns.
    expect(stdout).not.toContain('s3cr3t-module');
    expect(stdout).not.toContain(sha('TOKEN=s3cr3t-module\n'));
  });

  it('asks for the .env again when its content differs, and reports no containers for a project Docker does not know', async () => {
    const env = join(dir, 'stacks/web/.env');
    const { result } = state({ files: [{ dest: env, mode: '0600' }], content: { [env]: 'TOKEN=other\n' }, stacks: ['nothing-here'] });
    expect(result.write).toEqual([env]);
    expect(result.projects['nothing-here']).toMatchObject({ containers: [], running: [] });
  });
});
