import type { Ipv4Cidr } from './net.js';
import type { BackupPolicy, ExtraDisk, ExtraNic, ImageSpec, LabConfig, PassthroughDisk, PersonaSpec, SystemSpec, WorkloadSpec } from './schema.js';

/*
 * The resolved lab: every file checked and cross-checked, defaults applied, hosts flattened with
 * their effective settings. Layers take this value and never read the files again. It is frozen.
 */

export interface Image extends ImageSpec {
  readonly name: string;
  /** The spec file, relative to the lab root. */
  readonly file: string;
}

export interface Persona extends PersonaSpec {
  readonly name: string;
  readonly file: string;
}

export interface TemplateRef {
  /** As written, e.g. `ubuntu-noble@stable`. */
  readonly ref: string;
  readonly image: string;
  readonly channel: string;
}

export interface HostResources {
  readonly cores: number;
  readonly sockets: number;
  readonly cpuType: string;
  /** MiB */
  readonly memory: number;
  /** GiB */
  readonly disk: number;
}

export interface Host {
  readonly name: string;
  readonly persona: string;
  readonly kind: 'vm' | 'appliance';
  /** baremetal: a physical machine, never a VM: no node, no L2; seeded with `ahl image seed`. */
  readonly runtime: 'vm' | 'baremetal';
  readonly description?: string;
  /** The Proxmox node of a VM; absent for bare metal. */
  readonly node?: string;
  readonly template: TemplateRef;
  readonly ip?: Ipv4Cidr;
  readonly gateway?: string;
  readonly dns: readonly string[];
  readonly searchDomain?: string;
  readonly vmid?: number;
  readonly mac?: string;
  readonly resources: HostResources;
  readonly network: { readonly bridge: string; readonly vlan?: number; readonly model: string; readonly firewall: boolean };
  readonly disk: { readonly datastore: string; readonly interface: string; readonly ssd: boolean; readonly discard: boolean };
  /** Extra disks beside the boot disk (the host's, else the persona's), by slot (sorted), with their storage. */
  readonly disks: readonly (ExtraDisk & { readonly datastore: string })[];
  /** Extra NICs beside the first (net1, net2, … in this order), with their bridge. */
  readonly nics: readonly (ExtraNic & { readonly bridge: string })[];
  /** Whole disks of the node handed to the VM, by slot (sorted). */
  readonly passthrough: readonly PassthroughDisk[];
  readonly onBoot: boolean;
  /** Proxmox tags: `ahl`, the persona, then the persona's and the host's own, sorted and unique. */
  readonly tags: readonly string[];
  /** Inventory groups besides the persona's. */
  readonly groups: readonly string[];
  readonly system?: SystemSpec;
  readonly workloads: readonly WorkloadSpec[];
  readonly backup?: BackupPolicy;
}

export interface Stack {
  readonly name: string;
  /** The stack folder, relative to the lab root. */
  readonly dir: string;
  /** The compose file inside it. */
  readonly composeFile: string;
  /** Its services, sorted (absent when the compose file was not read). */
  readonly services?: readonly string[];
}

export interface Lab {
  /** Absolute path of the folder holding lab.yaml. */
  readonly root: string;
  /**
   * Where template manifests, channels and captures are kept: the lab root, or (from lab.local.yaml
   * `records`) a folder of this machine's own, so a local lab never writes into the committed records.
   */
  readonly recordsRoot: string;
  readonly name: string;
  readonly config: LabConfig;
  readonly images: Readonly<Record<string, Image>>;
  readonly personas: Readonly<Record<string, Persona>>;
  /** Every host of every persona, sorted by name. */
  readonly hosts: readonly Host[];
  readonly stacks: Readonly<Record<string, Stack>>;
}

/**
 * The serial an extra disk of a VM carries (at most 20 characters, as QEMU allows), by which L3 finds
 * it in the guest: /dev/disk/by-id/virtio-ahl-scsi1 on a virtio bus, …QEMU_HARDDISK_ahl-scsi1 on SCSI.
 */
export const diskSerial = (slot: string): string => `ahl-${slot}`;


export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
