#!/usr/bin/env node
/**
 * The local lab's long-running process, started detached by `ahl lab up`: it runs pve-sim with the
 * QEMU backend until SIGTERM (`ahl lab down`), then stops every guest and removes what it made.
 * Progress and errors go to stdout/stderr, which `ahl lab up` points at .ahl/lab/daemon.log.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ahlError, formatDiagnostic, LAB_LOCAL_FILE, labFile, loadLab, sshUser } from '@ahl/core';
import { renderNoCloud, writeSeedIso } from '@ahl/l1-image';
import { LOCAL_LAB_DIR, serialTail, standInMac, startLocalLab, waitForSsh, type LabNetwork, type QemuBackend } from '@ahl/testlab';

const root = process.argv[2];
if (!root) {
  process.stderr.write('usage: lab-daemon LAB_ROOT\n');
  process.exit(2);
}
// The lab is described by lab.yaml alone; a lab.local.yaml left by a crashed lab would point elsewhere.
rmSync(join(root, LAB_LOCAL_FILE), { force: true });
const { lab, errors } = await loadLab(root, { env: process.env });
if (!lab) {
  for (const e of errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
  process.exit(2);
}
const log = (s: string) => process.stdout.write(`${new Date().toISOString()} ${s}\n`);
// The lab's bare-metal hosts are machines on its bridge, booting the stock image with the seed
// `ahl image seed HOST` writes, from the lab as lab.local.yaml amends it (with the local lab's key).
// The lab is ready when they answer SSH as L3 will reach them.
const bootMetal = async (backend: QemuBackend, network: LabNetwork) => {
  const { lab: here, errors: hereErrors } = await loadLab(root, { cache: false, env: process.env });
  if (!here) {
    for (const e of hereErrors) process.stderr.write(`${formatDiagnostic(e)}\n`);
    throw ahlError('LAB_INVALID', { errors: hereErrors.length, warnings: 0, files: new Set(hereErrors.map((d) => d.file)).size });
  }
  const metal = here.hosts.filter((h) => h.runtime === 'baremetal');
  const booted = await Promise.all(
    metal.map(async (host) => {
      const seedIso = join(root, LOCAL_LAB_DIR, 'run', 'metal', `${host.name}-seed.iso`);
      await writeSeedIso(renderNoCloud(here, host), seedIso);
      const { runDir } = await backend.startMachine({ name: host.name, mac: host.mac ?? standInMac(host.name), bridge: host.network.bridge, seedIso });
      log(`bare metal: ${host.name} boots on ${host.network.bridge}: the stock image with its seed (as \`ahl image seed ${host.name}\` writes it)`);
      return { host, runDir };
    }),
  );
  const key = here.config.ssh.privateKey ? labFile(here, here.config.ssh.privateKey) : undefined;
  const user = sshUser(here);
  await Promise.all(
    booted.map(async ({ host, runDir }) => {
      if (!key || !host.ip) return;
      const ms = await waitForSsh({ host: host.ip.address, user, key, inNamespace: network.exec }, 10 * 60_000, () => serialTail(runDir));
      log(`bare metal: ${host.name} answers SSH at ${host.ip.address} (${Math.round(ms / 1000)} s)`);
    }),
  );
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
