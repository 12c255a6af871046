import { ApiError, die, paramError } from '../errors.js';
import { type AuthId, isRoot, parseAuthId, permissionPaths, privilegesAt } from '../auth/permissions.js';
import { BUILTIN_ROLES } from '../auth/roles.js';
import { TICKET_LIFETIME, createCsrfToken, createTicket, verifyTicket } from '../auth/tickets.js';
import type { SimCore } from '../model/core.js';
import type { AclEntry } from '../model/types.js';
import { splitList } from '../schema/formats.js';
import { type HandlerCtx, bool, int, reqStr, str } from './context.js';

/** Raised for a failed login; the server answers 401 with a JSON body after the auth delay. */
export class LoginFailure extends ApiError {
  constructor() {
    super(401, 'authentication failure\n');
  }
}

function privMap(core: SimCore, auth: AuthId, path: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [p, prop] of [...privilegesAt(core.perm, auth, path)].sort((a, b) => a[0].localeCompare(b[0]))) out[p] = prop ? 1 : 0;
  return out;
}

/** compute_api_permission: the privileges the GUI gets per top-level area. */
function capabilities(core: SimCore, auth: AuthId): Record<string, Record<string, number>> {
  const areas: Record<string, string> = { vms: '/vms', storage: '/storage', access: '/access', nodes: '/nodes', sdn: '/sdn', dc: '/', mapping: '/mapping' };
  const out: Record<string, Record<string, number>> = {};
  for (const [k, path] of Object.entries(areas)) {
    const m: Record<string, number> = {};
    for (const p of Object.keys(privMap(core, auth, path))) m[p] = 1;
    out[k] = m;
  }
  return out;
}

export function createTicketHandler(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  let username = reqStr(ctx, 'username');
  const password = reqStr(ctx, 'password');
  const realm = str(ctx, 'realm');
  if (realm && !username.includes('@')) username = `${username}@${realm}`;
  const now = core.now();
  let ok = false;
  if (password.startsWith('PVE:')) {
    ok = verifyTicket(core.state.access.ticketKey, password, now) === username;
  } else {
    const user = core.state.access.users[username];
    ok = !!user && user.enable && user.password !== undefined && user.password === password && (user.expire === 0 || user.expire > now);
  }
  if (!ok) throw new LoginFailure();
  const auth = parseAuthId(username);
  const path = str(ctx, 'path');
  const privs = str(ctx, 'privs');
  if (path !== undefined && privs !== undefined) {
    core.check(auth, path, splitList(privs));
    return { username };
  }
  const out: Record<string, unknown> = {
    username,
    ticket: createTicket(core.state.access.ticketKey, username, now),
    CSRFPreventionToken: createCsrfToken(core.state.access.ticketKey, username, now),
    cap: capabilities(core, auth),
  };
  if (core.state.clusterName && core.can(auth, '/', ['Sys.Audit'])) out.clustername = core.state.clusterName;
  return out;
}

export { TICKET_LIFETIME };

export function permissions(ctx: HandlerCtx): unknown {
  const { core, auth } = ctx;
  const userid = str(ctx, 'userid') ?? auth.id;
  const target = parseAuthId(userid);
  const own = userid === auth.id || (auth.token === undefined && target.user === auth.user);
  if (!own) core.check(auth, '/access', ['Sys.Audit']);
  if (!isRoot(target) && !core.state.access.users[target.user]) die(`no such user ('${target.user}')`);
  const path = str(ctx, 'path');
  const members = Object.values(core.state.guests)
    .filter((g) => g.pool)
    .map((g) => `/vms/${g.vmid}`);
  const paths = path !== undefined ? [path] : permissionPaths(core.perm, members);
  const out: Record<string, Record<string, number>> = {};
  for (const p of paths) {
    const m = privMap(core, target, p);
    if (Object.keys(m).length || path !== undefined) out[p] = m;
  }
  return out;
}

export function listUsers(ctx: HandlerCtx): unknown {
  const { core, auth } = ctx;
  const full = bool(ctx, 'full') ?? false;
  const enabledFilter = bool(ctx, 'enabled');
  const all = core.can(auth, '/access/groups', ['User.Modify', 'Sys.Audit'], true);
  const out = [];
  for (const u of Object.values(core.state.access.users).sort((a, b) => a.userid.localeCompare(b.userid))) {
    if (!all && u.userid !== auth.user) continue;
    if (enabledFilter !== undefined && u.enable !== enabledFilter) continue;
    const e: Record<string, unknown> = { userid: u.userid, enable: u.enable ? 1 : 0, expire: u.expire, 'realm-type': u.userid.split('@')[1] ?? 'pve' };
    if (u.comment !== undefined) e.comment = u.comment;
    if (u.email !== undefined) e.email = u.email;
    if (u.groups.length) e.groups = u.groups.join(',');
    if (full) e.tokens = Object.entries(u.tokens).map(([tokenid, t]) => ({ tokenid, privsep: t.privsep ? 1 : 0, expire: t.expire, ...(t.comment ? { comment: t.comment } : {}) }));
    out.push(e);
  }
  return out;
}

function userOrDie(core: SimCore, userid: string): NonNullable<SimCore['state']['access']['users'][string]> {
  const u = core.state.access.users[userid];
  if (!u) die(`no such user ('${userid}')`);
  return u;
}

export function listTokens(ctx: HandlerCtx): unknown {
  const u = userOrDie(ctx.core, reqStr(ctx, 'userid'));
  return Object.entries(u.tokens)
    .sort((a, b) => a[0].localeCompare(b[0]))
    .map(([tokenid, t]) => ({ tokenid, privsep: t.privsep ? 1 : 0, expire: t.expire, ...(t.comment ? { comment: t.comment } : {}) }));
}

export function createToken(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const userid = reqStr(ctx, 'userid');
  const tokenid = reqStr(ctx, 'tokenid');
  const u = userOrDie(core, userid);
  if (u.tokens[tokenid]) die('Token already exists.');
  const privsep = bool(ctx, 'privsep') ?? true;
  const expire = int(ctx, 'expire') ?? u.expire;
  const secret = core.rng.uuid();
  const comment = str(ctx, 'comment');
  u.tokens[tokenid] = { secret, privsep, expire, ...(comment !== undefined ? { comment } : {}) };
  core.changed();
  return { 'full-tokenid': `${userid}!${tokenid}`, info: { privsep: privsep ? 1 : 0, expire, ...(comment !== undefined ? { comment } : {}) }, value: secret };
}

export function deleteToken(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const userid = reqStr(ctx, 'userid');
  const tokenid = reqStr(ctx, 'tokenid');
  const u = userOrDie(core, userid);
  if (!u.tokens[tokenid]) die(`no such token '${tokenid}' for user '${userid}'`);
  delete u.tokens[tokenid];
  core.state.access.acl = core.state.access.acl.filter((a) => !(a.type === 'token' && a.ugid === `${userid}!${tokenid}`));
  core.changed();
  return null;
}

export function listRoles(ctx: HandlerCtx): unknown {
  const roles: Record<string, { privs: readonly string[]; special: number }> = {};
  for (const [id, privs] of Object.entries(BUILTIN_ROLES)) roles[id] = { privs, special: 1 };
  for (const [id, privs] of Object.entries(ctx.core.state.access.roles)) roles[id] = { privs, special: 0 };
  return Object.keys(roles)
    .sort()
    .map((roleid) => ({ roleid, privs: roles[roleid]!.privs.join(','), special: roles[roleid]!.special }));
}

export function listAcl(ctx: HandlerCtx): unknown {
  const { core, auth } = ctx;
  return core.state.access.acl
    .filter((a) => core.can(auth, a.path, ['Sys.Audit', 'Permissions.Modify'], true))
    .map((a) => ({ path: a.path, type: a.type, ugid: a.ugid, roleid: a.roleid, propagate: a.propagate ? 1 : 0 }));
}

export function updateAcl(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const access = core.state.access;
  const path = reqStr(ctx, 'path').replace(/\/+$/, '') || '/';
  const roles = splitList(reqStr(ctx, 'roles'));
  const propagate = bool(ctx, 'propagate') ?? true;
  const del = bool(ctx, 'delete') ?? false;
  const subjects: { type: AclEntry['type']; ugid: string }[] = [];
  for (const u of splitList(str(ctx, 'users') ?? '')) {
    if (!access.users[u]) die(`user '${u}' does not exist`);
    subjects.push({ type: 'user', ugid: u });
  }
  for (const g of splitList(str(ctx, 'groups') ?? '')) {
    if (!access.groups[g]) die(`group '${g}' does not exist`);
    subjects.push({ type: 'group', ugid: g });
  }
  for (const t of splitList(str(ctx, 'tokens') ?? '')) {
    const a = parseAuthId(t);
    if (!access.users[a.user]?.tokens[a.token ?? '']) die(`no such token '${a.token}' for user '${a.user}'`);
    subjects.push({ type: 'token', ugid: t });
  }
  if (subjects.length === 0) paramError({ users: 'either users, groups or tokens is required' });
  for (const r of roles) if (!BUILTIN_ROLES[r] && !access.roles[r]) die(`role '${r}' does not exist`);
  for (const s of subjects) {
    for (const r of roles) {
      access.acl = access.acl.filter((a) => !(a.path === path && a.type === s.type && a.ugid === s.ugid && a.roleid === r));
      if (!del) access.acl.push({ path, type: s.type, ugid: s.ugid, roleid: r, propagate });
    }
  }
  core.changed();
  return null;
}
