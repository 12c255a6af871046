import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const JUST = join(REPO, 'node_modules', '.bin', 'just');
const just = (...args: string[]) => spawnSync(JUST, args, { cwd: REPO, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('Justfile', () => {
  const recipes = just('--summary').stdout.trim().split(/\s+/);

  it('has the everyday operator recipes', () => {
    for (const r of ['validate', 'schema', 'l0-runway', 'l1-image-build', 'l2-plan', 'l2-apply', 'l3-converge', 'l4-converge', 'up', 'plan', 'rebuild', 'status', 'drift', 'graph', 'backup', 'restore', 'test'])
      expect(recipes).toContain(r);
  });

  it('`just validate` runs ahl validate on the example lab', () => {
    const r = just('validate');
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('is valid');
  });

  it('`just graph` draws the example lab', () => {
    const r = just('graph');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^flowchart LR\n/);
  });

  it('`just up` and `just plan` run ahl up and ahl plan', () => {
    expect(just('--dry-run', 'up', 'docker', '1').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? up docker --approve/);
    expect(just('--dry-run', 'plan', 'docker', 'markdown').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? plan docker --format markdown/);
  });

  it('the L2 recipes run ahl apply and ahl destroy', () => {
    expect(just('--dry-run', 'l2-plan', 'docker').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? apply docker\s*$/m);
    expect(just('--dry-run', 'l2-apply', 'docker', '1').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? apply docker --approve/);
    expect(just('--dry-run', 'l2-destroy', 'docker-03', '1').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? destroy docker-03 --approve/);
  });

  it('`just rebuild` runs ahl rebuild', () => {
    expect(just('--dry-run', 'rebuild', 'docker-01', '1', '1').stderr).toMatch(/packages\/cli\/dist\/bin\.js"? rebuild docker-01 --resume --approve/);
  });
});
