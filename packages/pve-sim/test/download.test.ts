import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackend, type RunningSim, type SimFileSource, type StorageDef, type Volume } from '../src/index.js';
import { raw, testSim } from './helpers.js';

// download-url streams to a temp file and hands the backend a path, never bytes.

const MiB = 1024 * 1024;
const BIG = 24 * MiB;
const CHUNK = 256 * 1024;

/** Deterministic content, cycling through eight distinct chunks. */
const CHUNKS = Array.from({ length: 8 }, (_, i) => {
  const b = Buffer.alloc(CHUNK);
  for (let j = 0; j < CHUNK; j += 4) b.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
  return b;
});
const chunk = (i: number): Buffer => CHUNKS[i % CHUNKS.length]!;
const BIG_SHA = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < BIG / CHUNK; i++) h.update(chunk(i));
  return h.digest('hex');
})();

/** Writes `BIG` bytes chunk by chunk, honouring backpressure (chunked encoding: no Content-Length). */
function streamBig(res: ServerResponse, limit = BIG / CHUNK): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  let i = 0;
  const pump = (): void => {
    while (i < limit) {
      if (!res.write(chunk(i++))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

class RecordingBackend extends MemoryBackend {
  calls: { volid: string; size: number; onDisk: number; sha256: string; inTemp: boolean }[] = [];
  fail: string | undefined;
  override async writeFile(volume: Volume, storage: StorageDef, source: SimFileSource): Promise<void> {
    const hash = createHash('sha256');
    for await (const c of createReadStream(source.path)) hash.update(c as Buffer);
    this.calls.push({
      volid: volume.volid,
      size: source.size,
      onDisk: statSync(source.path).size,
      sha256: hash.digest('hex'),
      inTemp: source.path.startsWith(join(tmpdir(), 'ahl-pve-sim-')),
    });
    if (this.fail) throw new Error(this.fail);
    await super.writeFile(volume, storage, source);
  }
}

let sim: RunningSim;
let files: Server;
let filesUrl: string;
const backend = new RecordingBackend();

beforeAll(async () => {
  sim = await testSim({ backend });
  files = createServer((req, res) => {
    if (req.url === '/big.qcow2') streamBig(res);
    else if (req.url === '/cut.qcow2') {
      // Promises 24 MiB, sends 1 MiB, then drops the connection.
      res.writeHead(200, { 'Content-Length': String(BIG) });
      res.write(Buffer.alloc(MiB, 1), () => setTimeout(() => res.destroy(), 20));
    } else if (req.url === '/stall.qcow2') {
      res.writeHead(200, { 'Content-Length': String(BIG) });
      res.write(Buffer.alloc(MiB, 2));
    } else {
      res.writeHead(404, 'Not Found');
      res.end();
    }
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
  filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await sim.stop();
  files.closeAllConnections();
  await new Promise<void>((r) => files.close(() => r()));
});

async function download(form: Record<string, string>): Promise<string> {
  const r = await raw(sim, 'POST', '/nodes/pve1/storage/local/download-url', { form: { content: 'import', ...form } });
  expect(r.status).toBe(200);
  const upid = (r.json() as { data: string }).data;
  await sim.idle();
  const st = (await raw(sim, 'GET', `/nodes/pve1/tasks/${encodeURIComponent(upid)}/status`)).json() as { data: { exitstatus: string } };
  return st.data.exitstatus;
}

const volids = (): string[] => sim.state.volumes.map((v) => v.volid);
const tempEntries = (): string[] => (sim.tempDir ? readdirSync(sim.tempDir) : []);

describe('download-url streams to disk', () => {
  it('downloads a multi-megabyte image through a temp file, checksum verified on the stream', async () => {
    expect(await download({ url: `${filesUrl}/big.qcow2`, filename: 'big.qcow2', checksum: BIG_SHA, 'checksum-algorithm': 'sha256' })).toBe('OK');
    expect(backend.calls).toEqual([{ volid: 'local:import/big.qcow2', size: BIG, onDisk: BIG, sha256: BIG_SHA, inTemp: true }]);
    const list = (await raw(sim, 'GET', '/nodes/pve1/storage/local/content', { query: 'content=import' })).json() as { data: { volid: string; size: number }[] };
    expect(list.data.find((v) => v.volid === 'local:import/big.qcow2')?.size).toBe(BIG);
    expect(sim.tempDir).toMatch(/ahl-pve-sim-/);
    expect(tempEntries()).toEqual([]);
    // sha256 is recorded, so a re-download with the same checksum is a no-op.
    expect(await download({ url: `${filesUrl}/big.qcow2`, filename: 'big.qcow2', checksum: BIG_SHA, 'checksum-algorithm': 'sha256' })).toBe('OK');
    expect(backend.calls).toHaveLength(1);
  });

  it('a checksum mismatch deletes the temp file and stores nothing', async () => {
    const wrong = 'ab'.repeat(64);
    expect(await download({ url: `${filesUrl}/big.qcow2`, filename: 'bad.qcow2', checksum: wrong, 'checksum-algorithm': 'sha512' })).toMatch(
      new RegExp(`^checksum mismatch: got '[0-9a-f]{128}' != expect '${wrong}'$`),
    );
    expect(volids()).not.toContain('local:import/bad.qcow2');
    expect(backend.calls).toHaveLength(1);
    expect(tempEntries()).toEqual([]);
  });

  it('a failed download (connection cut, 404, storage full) leaves nothing behind', async () => {
    expect(await download({ url: `${filesUrl}/cut.qcow2`, filename: 'cut.qcow2' })).toMatch(/^download failed: /);
    expect(await download({ url: `${filesUrl}/none.qcow2`, filename: 'none.qcow2' })).toBe('download failed: 404 Not Found');
    const full = sim.faults.add({ kind: 'storageFull', storage: 'local' });
    expect(await download({ url: `${filesUrl}/big.qcow2`, filename: 'full.qcow2' })).toBe('write failed: No space left on device');
    sim.faults.remove(full);
    expect(volids().filter((v) => /cut|none|full/.test(v))).toEqual([]);
    expect(backend.calls).toHaveLength(1);
    expect(tempEntries()).toEqual([]);
  });

  it('a failing backend fails the task and the temp file is still removed', async () => {
    backend.fail = 'cannot move file: Permission denied';
    try {
      expect(await download({ url: `${filesUrl}/big.qcow2`, filename: 'denied.qcow2' })).toBe('cannot move file: Permission denied');
    } finally {
      backend.fail = undefined;
    }
    expect(backend.calls).toHaveLength(2);
    expect(volids()).not.toContain('local:import/denied.qcow2');
    expect(tempEntries()).toEqual([]);
  });

  it('bytes reach the disk while the transfer runs; stopping the task deletes the partial file', async () => {
    const r = await raw(sim, 'POST', '/nodes/pve1/storage/local/download-url', { form: { content: 'import', url: `${filesUrl}/stall.qcow2`, filename: 'stall.qcow2' } });
    const upid = (r.json() as { data: string }).data;
    // The server sent 1 MiB of 24 and stalls: that 1 MiB is already in the temp file, not held in memory.
    const onDisk = (): number => (tempEntries().length ? statSync(join(sim.tempDir!, tempEntries()[0]!)).size : 0);
    const deadline = Date.now() + 5000;
    while (onDisk() < MiB && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    expect(tempEntries()).toHaveLength(1);
    expect(onDisk()).toBe(MiB);
    expect(sim.state.tasks.find((t) => t.upid === upid)?.status).toBe('running');
    await raw(sim, 'DELETE', `/nodes/pve1/tasks/${encodeURIComponent(upid)}`);
    await sim.idle();
    expect(sim.state.tasks.find((t) => t.upid === upid)?.exitstatus).toBe('received interrupt');
    expect(tempEntries()).toEqual([]);
  });

  it('stop() removes the temp directory', async () => {
    const other = await testSim();
    const r = await raw(other, 'POST', '/nodes/pve1/storage/local/download-url', { form: { content: 'import', url: `${filesUrl}/stall.qcow2`, filename: 'stall.qcow2' } });
    expect(r.status).toBe(200);
    const deadline = Date.now() + 5000;
    while (!(other.tempDir && readdirSync(other.tempDir).length) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    const dir = other.tempDir!;
    expect(readdirSync(dir)).toHaveLength(1);
    await other.stop();
    expect(existsSync(dir)).toBe(false);
  });
});
