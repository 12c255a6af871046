import { rm } from 'node:fs/promises';
import type { Guest, StorageDef, Volume } from './model/types.js';

/** A finished file in the sim's temp directory, handed to {@link SimBackend.writeFile}. */
export interface SimFileSource {
  /** Absolute path of the file, inside the sim's own temp directory. */
  path: string;
  /** Its size in bytes (equal to `volume.size` for downloads). */
  size: number;
}

/**
 * What actually happens to disks and guests. The simulator keeps all
 * bookkeeping (config, volumes, capacity, locks, tasks) itself and calls the
 * backend from inside the task that performs the operation, so a slow or
 * failing backend shows up exactly as PVE shows it: a running task, then its
 * exit status. A backend method that throws fails the task with its message.
 *
 * The default backend does nothing; a QEMU backend can make started guests
 * real VMs and volumes real image files.
 */
export interface SimBackend {
  allocateVolume(volume: Volume, storage: StorageDef): Promise<void>;
  /** Creates `target` from `source` (import-from, or a full clone). */
  copyVolume(source: Volume, target: Volume, storage: StorageDef): Promise<void>;
  /** Creates `target` as a linked clone (overlay) of the template volume `base`. */
  linkVolume(base: Volume, target: Volume, storage: StorageDef): Promise<void>;
  renameVolume(from: Volume, to: Volume, storage: StorageDef): Promise<void>;
  resizeVolume(volume: Volume, newSize: number, storage: StorageDef): Promise<void>;
  freeVolume(volume: Volume, storage: StorageDef): Promise<void>;
  /**
   * Stores a file as `volume` (a download-url ISO, template or import image, or
   * a vzdump archive). The content is in a temp file the sim wrote and no longer
   * needs: the backend takes ownership and moves (rename) or copies it into
   * place, or deletes it. Whatever is left at `source.path` when the promise
   * settles is removed by the sim, so a failing backend leaves nothing behind.
   */
  writeFile(volume: Volume, storage: StorageDef, source: SimFileSource): Promise<void>;
  /**
   * Where the volume's data lives on the node, when the backend keeps it in a real file: what
   * GET content/{volume} reports as `path` (otherwise the path PVE would use).
   */
  volumePath?(volume: Volume, storage: StorageDef): string | undefined;
  /** Starts the guest; `cloudInit` holds its NoCloud seed when it has a cloud-init drive. */
  startGuest(guest: Guest, context?: { cloudInit?: CloudInitSeed }): Promise<void>;
  /** `graceful` is a shutdown (ACPI/agent); otherwise a hard stop. */
  stopGuest(guest: Guest, graceful: boolean): Promise<void>;
  /** Whether the guest's process still runs; a backend of real guests answers, the default does not. */
  guestRunning?(guest: Guest): boolean;
  /**
   * Interfaces the guest agent reports for a running guest, or undefined to
   * let the sim derive them from the config (ipconfig / agentIps).
   */
  agentInterfaces?(guest: Guest): Promise<AgentInterface[] | undefined>;
  /**
   * Rejects while the guest's agent does not answer (a real guest still booting); without it the
   * sim answers from the guest's start time and `agentStartDelayMs`.
   */
  agentPing?(guest: Guest): Promise<void>;
}

/** The NoCloud documents Proxmox VE writes to a guest's cloud-init drive (see cloudinit/dump). */
export interface CloudInitSeed {
  userData: string;
  networkConfig: string;
  metaData: string;
}

export interface AgentInterface {
  name: string;
  'hardware-address': string;
  'ip-addresses': { 'ip-address': string; 'ip-address-type': 'ipv4' | 'ipv6'; prefix: number }[];
  statistics?: Record<string, number>;
}

/** The default backend: every operation succeeds immediately. */
export class MemoryBackend implements SimBackend {
  async allocateVolume(): Promise<void> {}
  async copyVolume(): Promise<void> {}
  async linkVolume(): Promise<void> {}
  async renameVolume(): Promise<void> {}
  async resizeVolume(): Promise<void> {}
  async freeVolume(): Promise<void> {}
  /** Keeps only the bookkeeping: the file itself is deleted. */
  async writeFile(_volume: Volume, _storage: StorageDef, source: SimFileSource): Promise<void> {
    await rm(source.path, { force: true });
  }
  async startGuest(): Promise<void> {}
  async stopGuest(): Promise<void> {}
}
