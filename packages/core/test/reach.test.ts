import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forgetHostKeys, type Lab } from '../src/index.js';

describe('forgetHostKeys', () => {
  it("removes a recreated host's old key (by address and by name) from the lab's known_hosts, and nothing else", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ahl-reach-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'k', '-f', join(dir, 'k')]);
    const pub = readFileSync(join(dir, 'k.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    writeFileSync(join(dir, 'known_hosts'), `10.0.0.11 ${pub}\nweb-01 ${pub}\n10.0.0.12 ${pub}\n`);
    const lab = { root: dir, config: { ssh: { knownHostsFile: 'known_hosts' } } } as unknown as Lab;
    expect(await forgetHostKeys(lab, [{ name: 'web-01', ip: { address: '10.0.0.11' } }])).toEqual(['10.0.0.11', 'web-01']);
    expect(readFileSync(join(dir, 'known_hosts'), 'utf8')).toBe(`10.0.0.12 ${pub}\n`);
    // Nothing known: nothing forgotten, and a lab without the file is no error.
    expect(await forgetHostKeys(lab, [{ name: 'web-01', ip: { address: '10.0.0.11' } }])).toEqual([]);
    const bare = { root: dir, config: { ssh: { knownHostsFile: 'absent' } } } as unknown as Lab;
    expect(await forgetHostKeys(bare, [{ name: 'web-01' }])).toEqual([]);
  });
});
