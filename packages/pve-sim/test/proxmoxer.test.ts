import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import { TOKEN, testSim } from './helpers.js';

// Python's proxmoxer (PyPI) against the sim over HTTPS: token auth, clone,
// task wait, start, stop, delete. Skipped with the reason when python3 or
// proxmoxer is unavailable; under CI that fails instead.
// scripts/bootstrap installs proxmoxer into a virtualenv under the cache; fall back to python3 on PATH.
const venvPython = join(process.env.AHL_CACHE_DIR ?? join(homedir(), '.cache', 'ahl'), 'venv', 'bin', 'python');
const PYTHON = existsSync(venvPython) ? venvPython : 'python3';
const probe = spawnSync(PYTHON, ['-c', 'import proxmoxer, requests; print(proxmoxer.__version__)'], { encoding: 'utf8' });
const needs = prerequisites([
  probe.error && `python3 (${probe.error.message}; with it, bash scripts/bootstrap installs proxmoxer into ${venvPython})`,
  !probe.error && probe.status !== 0 && `proxmoxer and requests importable by ${PYTHON} (${probe.stderr.trim().split('\n').pop()}; bash scripts/bootstrap installs them into ${venvPython})`,
]);

describe('proxmoxer', () => {
  needs.it('clones, starts, stops and deletes through proxmoxer', async () => {
    const sim = await testSim({ https: true });
    try {
      const script = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'proxmoxer_flow.py');
      const [user, tokenName] = TOKEN.id.split('!') as [string, string];
      const run = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        import('node:child_process').then(({ spawn }) => {
          const child = spawn(PYTHON, [script, sim.host, String(sim.port), user, tokenName, TOKEN.secret, 'pve1', '9000', '450'], {
            env: { ...process.env, PYTHONWARNINGS: 'ignore' },
          });
          let out = '';
          let err = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString()));
          child.stderr.on('data', (c: Buffer) => (err += c.toString()));
          child.on('exit', (code) => resolve({ code, out, err }));
        });
      });
      expect(run.err).toBe('');
      expect(run.code).toBe(0);
      const seen = JSON.parse(run.out) as Record<string, unknown>;
      expect(seen).toEqual({
        version: '9.1.1',
        clone: 'OK',
        config_name: 'py-clone',
        start: 'OK',
        running: 'running',
        stop: 'OK',
        delete: 'OK',
        after_delete: { status_code: 500, content: "Configuration file 'nodes/pve1/qemu-server/450.conf' does not exist" },
        bad_param: { status_code: 400, errors: { cores: "type check ('integer') failed - got 'x'" } },
      });
    } finally {
      await sim.stop();
    }
  });
});
