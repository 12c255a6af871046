/**
 * Built-in PVE roles, derived from the privilege groups in
 * pve-access-control's AccessControl.pm (PVE 9): each category lists root-only,
 * admin, user and audit privileges; PVE<Cat>Admin = admin+user+audit,
 * PVE<Cat>User = user+audit, PVEAuditor = every audit privilege, PVEAdmin =
 * every non-root privilege, Administrator = all, NoAccess = none.
 */
interface PrivGroup {
  root: string[];
  admin: string[];
  user: string[];
  audit: string[];
}

const PRIV_GROUPS: Record<string, PrivGroup> = {
  VM: {
    root: [],
    admin: [
      'VM.Allocate',
      'VM.Clone',
      'VM.Config.CPU',
      'VM.Config.Disk',
      'VM.Config.HWType',
      'VM.Config.Memory',
      'VM.Config.Network',
      'VM.Config.Options',
      'VM.GuestAgent.FileRead',
      'VM.GuestAgent.FileSystemMgmt',
      'VM.GuestAgent.FileWrite',
      'VM.GuestAgent.Unrestricted',
      'VM.Migrate',
      'VM.Replicate',
      'VM.Snapshot',
      'VM.Snapshot.Rollback',
    ],
    user: ['VM.Backup', 'VM.Config.CDROM', 'VM.Config.Cloudinit', 'VM.Console', 'VM.GuestAgent.Audit', 'VM.PowerMgmt'],
    audit: ['VM.Audit'],
  },
  Sys: {
    root: ['Sys.AccessNetwork', 'Sys.Incoming', 'Sys.Modify', 'Sys.PowerMgmt'],
    admin: ['Sys.Console', 'Sys.Syslog'],
    user: [],
    audit: ['Sys.Audit'],
  },
  Datastore: {
    root: [],
    admin: ['Datastore.Allocate', 'Datastore.AllocateTemplate'],
    user: ['Datastore.AllocateSpace'],
    audit: ['Datastore.Audit'],
  },
  SDN: { root: [], admin: ['SDN.Allocate', 'SDN.Audit'], user: ['SDN.Use'], audit: ['SDN.Audit'] },
  User: { root: ['Realm.Allocate'], admin: ['Group.Allocate', 'Realm.AllocateUser', 'User.Modify'], user: [], audit: [] },
  Pool: { root: [], admin: ['Pool.Allocate'], user: [], audit: ['Pool.Audit'] },
  Mapping: { root: [], admin: ['Mapping.Modify'], user: ['Mapping.Use'], audit: ['Mapping.Audit'] },
};

function buildRoles(): Record<string, string[]> {
  const all = new Set<string>(['Permissions.Modify']);
  const roles: Record<string, Set<string>> = { NoAccess: new Set(), PVEAdmin: new Set(), PVEAuditor: new Set() };
  for (const [cat, g] of Object.entries(PRIV_GROUPS)) {
    for (const p of [...g.root, ...g.admin, ...g.user, ...g.audit]) all.add(p);
    const admin = (roles[`PVE${cat}Admin`] ??= new Set());
    for (const p of [...g.admin, ...g.user, ...g.audit]) {
      admin.add(p);
      roles.PVEAdmin!.add(p);
    }
    if (g.user.length > 0) {
      const user = (roles[`PVE${cat}User`] ??= new Set());
      for (const p of [...g.user, ...g.audit]) user.add(p);
    }
    for (const p of g.audit) roles.PVEAuditor!.add(p);
  }
  roles.PVEPoolUser = new Set(['Pool.Audit']);
  roles.PVETemplateUser = new Set(['VM.Audit', 'VM.Clone']);
  roles.Administrator = all;
  const out: Record<string, string[]> = {};
  for (const name of Object.keys(roles).sort()) out[name] = [...roles[name]!].sort();
  return out;
}

/** Built-in role name → sorted privileges. */
export const BUILTIN_ROLES: Readonly<Record<string, readonly string[]>> = buildRoles();

/** Every privilege PVE knows, sorted. */
export const ALL_PRIVILEGES: readonly string[] = BUILTIN_ROLES.Administrator!;
