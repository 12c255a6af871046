import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, loadLab } from '../src/index.js';
import { FIXTURES } from './corpus.js';

/** The base fixture in a fresh folder, with the web persona's system section given these files and secrets. */
function lab(files: string, secrets = '', labExtra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-paths-'));
  cpSync(join(FIXTURES, 'base'), dir, { recursive: true });
  const web = join(dir, 'personas/web.yaml');
  writeFileSync(
    web,
    readFileSync(web, 'utf8')
      .replace('  packages: [curl]\n', `  packages: [curl]\n  files:\n${files}`)
      .replace('  - stack: app\n', `  - stack: app\n${secrets}`),
  );
  if (labExtra) writeFileSync(join(dir, 'lab.yaml'), readFileSync(join(dir, 'lab.yaml'), 'utf8') + labExtra);
  return dir;
}
const errors = async (dir: string) => (await loadLab(dir, { cache: false })).errors.map(formatDiagnostic);

describe('paths in the lab stay inside the repository', () => {
  it('accepts a file inside the repository', async () => {
    const dir = lab('    - {path: /etc/a, source: files/a.conf}\n');
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files/a.conf'), 'x');
    expect(await errors(dir)).toEqual([]);
  });

  it('refuses ../, an absolute path, ~/ and a secret file outside it, each at its line', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'ahl-outside-'));
    const dir = lab(
      `    - {path: /etc/a, source: ../../etc/passwd}\n    - {path: /etc/b, source: /etc/shadow}\n    - {path: /etc/c, source: "~/.ssh/id_ed25519"}\n`,
      `    secrets: {TOKEN: "file:${outside}/token", KEY: "sops:/etc/x.yaml#a.b"}\n`,
    );
    const e = await errors(dir);
    expect(e).toHaveLength(5);
    expect(e[0]).toMatch(/^personas\/web\.yaml:9:30 system\.files\[0\]\.source: "\.\.\/\.\.\/etc\/passwd" resolves to \/etc\/passwd, outside the lab repository/);
    expect(e[1]).toMatch(/^personas\/web\.yaml:10:30 system\.files\[1\]\.source: "\/etc\/shadow" resolves to \/etc\/shadow, outside/);
    expect(e[2]).toMatch(/^personas\/web\.yaml:11:30 system\.files\[2\]\.source: "~\/\.ssh\/id_ed25519" resolves to .*\/\.ssh\/id_ed25519, outside/);
    expect(e.slice(3).join('\n')).toMatch(/workloads\[0\]\.secrets\.TOKEN: .*outside/);
    expect(e.slice(3).join('\n')).toMatch(/workloads\[0\]\.secrets\.KEY: "\/etc\/x\.yaml" resolves to \/etc\/x\.yaml, outside/);
  });

  it('follows links: a link inside the repository that points out of it is refused, in a persona and in a stack', async () => {
    const dir = lab('    - {path: /etc/a, source: files/innocent.conf}\n');
    mkdirSync(join(dir, 'files'));
    symlinkSync('/etc/passwd', join(dir, 'files/innocent.conf'));
    symlinkSync('/etc/hostname', join(dir, 'stacks/app/hostname.txt'));
    expect(await errors(dir)).toEqual([
      expect.stringMatching(/^personas\/web\.yaml:9:30 system\.files\[0\]\.source: "files\/innocent\.conf" resolves to \/etc\/passwd, outside/),
      expect.stringMatching(/^stacks\/app\/hostname\.txt:1:1 "stacks\/app\/hostname\.txt" resolves to \/etc\/hostname, outside/),
    ]);
  });

  it('a folder lab.yaml lists in localPaths may be read from', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'ahl-allowed-'));
    writeFileSync(join(outside, 'token'), 't');
    const dir = lab('', `    secrets: {TOKEN: "file:${outside}/token"}\n`, `localPaths: ["${outside}"]\n`);
    writeFileSync(join(dir, 'personas/web.yaml'), readFileSync(join(dir, 'personas/web.yaml'), 'utf8').replace('  files:\n', ''));
    expect(await errors(dir)).toEqual([]);
  });
});
