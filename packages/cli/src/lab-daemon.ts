#!/usr/bin/env node
/**
 * The local lab's long-running process, started detached by `ahl lab up`: it runs pve-sim with the
 * QEMU backend until SIGTERM (`ahl lab down`), then stops every guest and removes what it made.
 * Progress and errors go to stdout/stderr, which `ahl lab up` points at .ahl/lab/daemon.log.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic, LAB_LOCAL_FILE, loadLab } from '@ahl/core';
import { renderNoCloud, writeSeedIso } from '@ahl/l1-image';
import { LOCAL_LAB_DIR, standInMac, startLocalLab, type QemuBackend } from '@ahl/testlab';

const root = process.argv[2];
if (!root) {
  process.stderr.write('usage: lab-daemon LAB_ROOT\n');
  process.exit(2);
}
// The lab is described by lab.yaml alone; a lab.local.yaml left by a crashed lab would point elsewhere.
rmSync(join(root, LAB_LOCAL_FILE), { force: true });
const { lab, errors } = await loadLab(root);
if (!lab) {
  for (const e of errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
  process.exit(2);
}
const log = (s: string) => process.stdout.write(`${new Date().toISOString()} ${s}\n`);
// The lab's bare-metal hosts are machines on its bridge, booting the stock image with the seed
// `ahl image seed HOST` writes, from the lab as lab.local.yaml amends it (with the local lab's key).
const bootMetal = async (backend: QemuBackend) => {
  const { lab: here, errors: hereErrors } = await loadLab(root, { cache: false });
  if (!here) throw new Error(hereErrors.map(formatDiagnostic).join('; '));
  const metal = here.hosts.filter((h) => h.runtime === 'baremetal');
  for (const host of metal) {
    const seedIso = join(root, LOCAL_LAB_DIR, 'run', 'metal', `${host.name}-seed.iso`);
    await writeSeedIso(renderNoCloud(here, host), seedIso);
    await backend.startMachine({ name: host.name, mac: host.mac ?? standInMac(host.name), bridge: host.network.bridge, seedIso });
    log(`bare metal: ${host.name} is a machine on ${host.network.bridge} booting the stock image with its seed`);
  }
  return metal.map((h) => h.name);
};
let running;
try {
  running = await startLocalLab(lab, { onStep: log, beforeReady: bootMetal });
} catch (e) {
  process.stderr.write(`the local lab could not start: ${(e as Error).message}\n`);
  process.exit(2);
}
log(`ready: ${running.state.endpoint} (${running.state.accel})`);
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping guests and removing the lab`);
  await running.stop();
  log('stopped');
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
