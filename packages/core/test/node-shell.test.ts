import { loadLab, nodeShell, shellQuote, type Lab } from '../src/index.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

async function lab(nodes: string): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), 'ahl-shell-'));
  writeFileSync(
    join(dir, 'lab.yaml'),
    `name: sh\nproxmox: {endpoint: "https://pve.example:8006", tokenId: "a@pve!t", tokenSecret: env:T}\nnodes: ${nodes}\ncloudInit: {sshKeys: [ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOLNHl8gVtMqPKW2ojpPb2LKKs4+plPNxUMusL7yDGuR t@t]}\n`,
  );
  const r = await loadLab(dir);
  if (!r.lab) throw new Error(JSON.stringify(r.errors));
  return r.lab;
}

describe('nodeShell', () => {
  it('reaches a one-node lab as root@ the endpoint\'s host, another node by its name, or as lab.yaml says', async () => {
    expect(nodeShell(await lab('{pve1: {}}'), 'pve1').where).toBe('root@pve.example');
    const two = await lab('{pve1: {}, pve2: {ssh: "admin@10.0.0.12:2222"}}');
    expect(nodeShell(two, 'pve1').where).toBe('root@pve1');
    expect(nodeShell(two, 'pve2').where).toBe('admin@10.0.0.12');
  });

  it('runs scripts on this machine when the node is local, and names the failing step', async () => {
    const sh = nodeShell(await lab('{pve1: {ssh: local}}'), 'pve1');
    expect(sh.where).toBe('this machine');
    expect(await sh.run(`printf '%s\\n' ${shellQuote("it's here")}`)).toBe("it's here");
    const e = (await sh.run('echo nope >&2; exit 3').catch((x: unknown) => x)) as { code: string; message: string };
    expect(e.code).toBe('NODE_SHELL_FAILED');
    expect(e.message).toBe('on pve1 (this machine): `echo nope >&2; exit 3` failed: exit 3: nope');
    const out = await sh.stream('printf abc');
    const chunks: Buffer[] = [];
    for await (const c of out.stdout) chunks.push(c as Buffer);
    await out.done;
    expect(Buffer.concat(chunks).toString()).toBe('abc');
  });
});
