import { createHash } from 'node:crypto';
import type { Image, Lab } from '@ahl/core';

/** Stable JSON (sorted keys) for digests. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** Digest of what shapes a template (source and template settings; not the description). */
export function specDigest(image: Image): string {
  const { os, source, template, tags, kind } = image;
  return `sha256:${createHash('sha256').update(canonical({ kind, os, source, template, tags })).digest('hex')}`;
}

/** UTC build time as YYYYMMDD-HHMMSS: sortable, and a valid Proxmox name part. */
export function versionAt(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
}

export function templateName(image: string, version: string): string {
  return `${image}-${version}`;
}

/** Where the template lives: its node, disk storage, import storage and bridge, from the spec and the lab's defaults. */
export function placement(lab: Lab, image: Image): { node: string; storage: string; importStorage: string; bridge: string } {
  const node = image.template.node ?? Object.keys(lab.config.nodes)[0]!;
  const roles = { ...lab.config.defaults.storage, ...(lab.config.nodes[node]?.storage ?? {}) };
  return {
    node,
    storage: image.template.storage ?? roles.vm ?? 'local-lvm',
    importStorage: roles.import ?? roles.iso ?? 'local',
    bridge: lab.config.nodes[node]?.bridge ?? lab.config.defaults.bridge,
  };
}

/** The file name the cloud image gets on the import storage: unique per source digest, with an extension PVE accepts for import. */
export function importFileName(image: string, sourceDigest: string): string {
  return `${image}-${sourceDigest.replace(/^sha\d+:/, '').slice(0, 16)}.qcow2`;
}

/** Parameters of POST /nodes/{node}/qemu for a template VM importing the cloud image. Pure. */
export function createParams(image: Image, o: { vmid: number; name: string; storage: string; importVolid: string; bridge: string }): Record<string, string | number> {
  const t = image.template;
  return {
    vmid: o.vmid,
    name: o.name,
    ostype: 'l26',
    machine: t.machine,
    bios: t.bios,
    scsihw: t.scsihw,
    cores: t.cores,
    sockets: 1,
    memory: t.memory,
    scsi0: `${o.storage}:0,import-from=${o.importVolid},discard=on,ssd=1`,
    boot: 'order=scsi0',
    net0: `virtio,bridge=${o.bridge}`,
    agent: t.agent ? 1 : 0,
    // A cloud-init drive; no package upgrade on first boot (Proxmox's default), which would make every
    // new VM's first boot wait for a full apt upgrade: L3 manages packages, and unattended upgrades.
    ...(image.kind === 'cloud' ? { ide2: `${o.storage}:cloudinit`, ciupgrade: 0 } : {}),
    ...(t.serialConsole ? { serial0: 'socket', vga: 'serial0' } : {}),
    ...(t.bios === 'ovmf' ? { efidisk0: `${o.storage}:1,efitype=4m,pre-enrolled-keys=0` } : {}),
    tags: ['ahl-template', `image-${image.name}`, ...image.tags].join(';'),
    description: `ahl template ${o.name} from ${image.source.url ?? image.source.capture ?? ''}`,
  };
}

/** Finds `fileName`'s digest in a SHA256SUMS / SHA512SUMS text (GNU or BSD style). Pure. */
export function digestFromSums(text: string, fileName: string): string | undefined {
  for (const line of text.split('\n')) {
    const gnu = /^([0-9a-fA-F]{64}|[0-9a-fA-F]{128})\s+\*?(.+)$/.exec(line.trim());
    const bsd = /^SHA(256|512) \((.+)\) = ([0-9a-fA-F]+)$/.exec(line.trim());
    if (gnu && gnu[2]!.trim() === fileName) return `${gnu[1]!.length === 64 ? 'sha256' : 'sha512'}:${gnu[1]!.toLowerCase()}`;
    if (bsd && bsd[2] === fileName) return `sha${bsd[1]}:${bsd[3]!.toLowerCase()}`;
  }
  return undefined;
}
