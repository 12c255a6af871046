import type { Guest, StorageDef, Volume } from './model/types.js';

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
  /** Stores downloaded file content (ISO, template, import image). */
  writeFile(volume: Volume, storage: StorageDef, data: Uint8Array): Promise<void>;
  startGuest(guest: Guest): Promise<void>;
  /** `graceful` is a shutdown (ACPI/agent); otherwise a hard stop. */
  stopGuest(guest: Guest, graceful: boolean): Promise<void>;
  /**
   * Interfaces the guest agent reports for a running guest, or undefined to
   * let the sim derive them from the config (ipconfig / agentIps).
   */
  agentInterfaces?(guest: Guest): Promise<AgentInterface[] | undefined>;
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
  async writeFile(): Promise<void> {}
  async startGuest(): Promise<void> {}
  async stopGuest(): Promise<void> {}
}
