import type { Lab } from '@ahl/core';
import { runwayRequirements } from './requirements.js';

export type Layer = 'L0' | 'L1' | 'L2' | 'L3' | 'L4';

/** Privileges a layer needs on a path. `anyOf` alternatives: one of them suffices (e.g. Sys.Modify on / or Sys.AccessNetwork on the node). */
export interface PrivilegeNeed {
  readonly layer: Layer;
  readonly path: string;
  readonly privileges: readonly string[];
  readonly why: string;
  readonly anyOf?: readonly { readonly path: string; readonly privileges: readonly string[] }[];
}

const VM_CONFIG = ['VM.Config.Disk', 'VM.Config.CDROM', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Network', 'VM.Config.HWType', 'VM.Config.Options', 'VM.Config.Cloudinit'];

/** What each layer needs for this lab, from the permission rules in the PVE API schema. Pure. */
export function privilegeNeeds(lab: Lab): PrivilegeNeed[] {
  const req = runwayRequirements(lab);
  const needs: PrivilegeNeed[] = [
    { layer: 'L0', path: '/', privileges: ['Sys.Audit'], why: 'read node status, networks and the cluster' },
    { layer: 'L0', path: '/vms', privileges: ['VM.Audit'], why: 'see guests, to find templates and conflicts' },
    { layer: 'L1', path: '/vms', privileges: ['VM.Allocate', ...VM_CONFIG], why: 'create templates from cloud images' },
    { layer: 'L2', path: '/vms', privileges: ['VM.Clone', 'VM.Allocate', 'VM.PowerMgmt', 'VM.GuestAgent.Audit', ...VM_CONFIG], why: 'clone, configure, start and read VMs' },
    { layer: 'L4', path: '/vms', privileges: ['VM.Backup'], why: 'capture appliance boot disks (vzdump)' },
  ];
  for (const n of req.nodes) {
    for (const [storage, content] of Object.entries(n.storages)) {
      needs.push({ layer: 'L0', path: `/storage/${storage}`, privileges: ['Datastore.Audit'], why: `read ${storage}'s status` });
      if (content.includes('images')) needs.push({ layer: 'L2', path: `/storage/${storage}`, privileges: ['Datastore.AllocateSpace'], why: `allocate VM disks on ${storage}` });
      if (content.includes('import') || content.includes('iso'))
        needs.push({
          layer: 'L1',
          path: `/storage/${storage}`,
          privileges: ['Datastore.AllocateTemplate'],
          why: `download cloud images to ${storage}`,
          anyOf: [
            { path: '/', privileges: ['Sys.Modify'] },
            { path: `/nodes/${n.node}`, privileges: ['Sys.AccessNetwork'] },
          ],
        });
      if (content.includes('backup')) needs.push({ layer: 'L1', path: `/storage/${storage}`, privileges: ['Datastore.AllocateSpace'], why: `write captures to ${storage}` });
    }
    for (const bridge of n.bridges) needs.push({ layer: 'L2', path: `/sdn/zones/localnetwork/${bridge}`, privileges: ['SDN.Use'], why: `attach NICs to ${bridge}` });
  }
  return needs;
}

/** /access/permissions: path → privilege → 1 when it propagates to children, 0 when it holds at that path only. */
export type PermissionMap = Readonly<Record<string, Readonly<Record<string, number>>>>;

/**
 * Whether the token holds `privilege` on `path`: the most specific path listed decides, as in PVE,
 * and an ancestor's privilege counts only when it propagates.
 */
export function hasPrivilege(perms: PermissionMap, path: string, privilege: string): boolean {
  const parts = path.split('/').filter(Boolean);
  for (let i = parts.length; i >= 0; i--) {
    const p = `/${parts.slice(0, i).join('/')}`;
    const entry = perms[p];
    if (!entry) continue;
    const v = entry[privilege];
    if (v === undefined) return false;
    return i === parts.length || v === 1;
  }
  return false;
}

export interface MissingPrivilege {
  readonly layer: Layer;
  readonly path: string;
  readonly privilege: string;
  readonly why: string;
}

/** Every privilege the token lacks, with the path and the layer that needs it. Pure. */
export function missingPrivileges(perms: PermissionMap, needs: readonly PrivilegeNeed[]): MissingPrivilege[] {
  const out: MissingPrivilege[] = [];
  const seen = new Set<string>();
  for (const n of needs) {
    for (const priv of n.privileges) {
      if (hasPrivilege(perms, n.path, priv)) continue;
      const key = `${n.path} ${priv}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ layer: n.layer, path: n.path, privilege: priv, why: n.why });
    }
    if (n.anyOf && !n.anyOf.some((a) => a.privileges.every((p) => hasPrivilege(perms, a.path, p)))) {
      const a = n.anyOf[0]!;
      for (const priv of a.privileges) {
        const key = `${a.path} ${priv}`;
        if (!seen.has(key)) {
          seen.add(key);
          out.push({ layer: n.layer, path: a.path, privilege: priv, why: `${n.why} (or ${n.anyOf.slice(1).map((x) => `${x.privileges.join('+')} on ${x.path}`).join(', ')})` });
        }
      }
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.privilege < b.privilege ? -1 : 1));
}

/** The smallest role that covers every need, and the commands that create and grant it. */
export function minimalRole(needs: readonly PrivilegeNeed[], tokenId: string): { name: string; privileges: string[]; commands: string[] } {
  const privs = new Set<string>();
  for (const n of needs) {
    for (const p of n.privileges) privs.add(p);
    if (n.anyOf?.[0]) for (const p of n.anyOf[0].privileges) privs.add(p);
  }
  const privileges = [...privs].sort();
  return {
    name: 'AhlLab',
    privileges,
    commands: [`pveum role add AhlLab -privs "${privileges.join(',')}"`, `pveum acl modify / -token '${tokenId}' -role AhlLab`],
  };
}
