import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ANSIBLE_DIR, findAnsiblePlaybook } from '../src/index.js';

/* The bundled content passes ansible-lint (production profile, .ansible-lint in the content folder). */
describe('bundled Ansible content', () => {
  it('is ansible-lint clean', async () => {
    const lint = join(dirname(findAnsiblePlaybook()), 'ansible-lint');
    expect(existsSync(lint), `${lint} (installed by scripts/bootstrap)`).toBe(true);
    const r = await execa(lint, ['--nocolor'], { cwd: ANSIBLE_DIR, reject: false, all: true, env: { NO_COLOR: '1' } });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toMatch(/Passed: 0 failure\(s\), 0 warning\(s\)/);
  }, 300_000);
});
