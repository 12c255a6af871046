import { ApiError } from '../errors.js';
import type { AccessState, AclEntry } from '../model/types.js';
import { ALL_PRIVILEGES, BUILTIN_ROLES } from './roles.js';

/** The identity a request runs as: a user, or a token `user@realm!name`. */
export interface AuthId {
  /** `user@realm` or `user@realm!token`. */
  id: string;
  user: string;
  token?: string;
}

export function parseAuthId(id: string): AuthId {
  const bang = id.indexOf('!');
  if (bang < 0) return { id, user: id };
  return { id, user: id.slice(0, bang), token: id.slice(bang + 1) };
}

/** The root check compares with the literal `root@pam`; tokens never pass it. */
export function isRoot(auth: AuthId): boolean {
  return auth.id === 'root@pam';
}

export function rolePrivileges(access: AccessState, roleid: string): readonly string[] {
  return BUILTIN_ROLES[roleid] ?? access.roles[roleid] ?? [];
}

function pathParts(path: string): string[] {
  if (path === '/') return [''];
  const parts = path.split('/');
  return parts[0] === '' ? parts : ['', ...parts];
}

/**
 * PVE::AccessControl::roles: walk from `/` to `path`; at each level a token's
 * own entries, then user entries, then group entries replace what was
 * inherited; entries above the final level count only when they propagate.
 * NoAccess wins over everything on the final set.
 */
function rolesAt(access: AccessState, ugid: string, kind: 'user' | 'token', path: string): Record<string, boolean> {
  let roles: Record<string, boolean> = {};
  const parts = pathParts(path);
  let current = '';
  parts.forEach((p, i) => {
    current = i === 0 ? '/' : current === '/' ? `/${p}` : `${current}/${p}`;
    const final = i === parts.length - 1;
    const at = access.acl.filter((a) => a.path === current);
    const pick = (entries: AclEntry[]): Record<string, boolean> | undefined => {
      let found: Record<string, boolean> | undefined;
      for (const a of entries) {
        if (final || a.propagate) (found ??= {})[a.roleid] = a.propagate;
      }
      return found;
    };
    const own = pick(at.filter((a) => a.type === kind && a.ugid === ugid));
    if (own) {
      roles = own;
      return;
    }
    if (kind === 'token') return;
    const groups = Object.entries(access.groups)
      .filter(([, g]) => g.users.includes(ugid))
      .map(([id]) => id);
    const viaGroup = pick(at.filter((a) => a.type === 'group' && groups.includes(a.ugid)));
    if (viaGroup) roles = viaGroup;
  });
  if (roles.NoAccess !== undefined) return { NoAccess: roles.NoAccess };
  return roles;
}

function privsFromRoles(access: AccessState, roles: Record<string, boolean>): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const [role, propagate] of Object.entries(roles)) {
    for (const p of rolePrivileges(access, role)) out.set(p, (out.get(p) ?? false) || propagate);
  }
  return out;
}

export interface PermissionContext {
  access: AccessState;
  /** vmid → pool, for pool-inherited VM permissions. */
  vmPool(vmid: number): string | undefined;
}

/**
 * Effective privileges (with their propagate flag) of `auth` on `path`, as
 * RPCEnvironment::permissions computes them: root@pam has everything; a
 * privilege-separated token gets the intersection of its user's and its own.
 * A VM in a pool also gets the privileges held on `/pool/<pool>`.
 */
export function privilegesAt(ctx: PermissionContext, auth: AuthId, path: string): Map<string, boolean> {
  if (isRoot(auth)) return new Map(ALL_PRIVILEGES.map((p) => [p, true]));
  const user = ctx.access.users[auth.user];
  if (!user || !user.enable) return new Map();
  const forSubject = (ugid: string, kind: 'user' | 'token'): Map<string, boolean> => {
    const roles = rolesAt(ctx.access, ugid, kind, path);
    const vm = /^\/vms\/(\d+)$/.exec(path);
    const pool = vm?.[1] ? ctx.vmPool(Number(vm[1])) : undefined;
    if (pool) Object.assign(roles, rolesAt(ctx.access, ugid, kind, `/pool/${pool}`));
    return privsFromRoles(ctx.access, roles);
  };
  const userPrivs = auth.user === 'root@pam' ? new Map(ALL_PRIVILEGES.map((p) => [p, true] as [string, boolean])) : forSubject(auth.user, 'user');
  if (auth.token === undefined) return userPrivs;
  const token = user.tokens[auth.token];
  if (!token) return new Map();
  if (!token.privsep) return userPrivs;
  const tokenPrivs = forSubject(auth.id, 'token');
  const out = new Map<string, boolean>();
  for (const [p, prop] of tokenPrivs) if (userPrivs.has(p)) out.set(p, prop && (userPrivs.get(p) ?? false));
  return out;
}

export function hasPrivs(ctx: PermissionContext, auth: AuthId, path: string, privs: readonly string[], any = false): boolean {
  const have = privilegesAt(ctx, auth, path);
  return any ? privs.some((p) => have.has(p)) : privs.every((p) => have.has(p));
}

/**
 * `hasPrivs` for many paths within one request (listings filter every guest by
 * VM.Audit). A `/vms/<id>` with no ACL entry on that exact path inherits from
 * `/`, `/vms` and its pool only, so all such guests in one pool share a result.
 * The memo must not outlive the request: it does not see later ACL changes.
 */
export function privilegeMemo(ctx: PermissionContext, auth: AuthId): (path: string, privs: readonly string[], any?: boolean) => boolean {
  const own = new Set(ctx.access.acl.map((a) => a.path));
  const memo = new Map<string, boolean>();
  return (path, privs, any = false) => {
    const vm = /^\/vms\/(\d+)$/.exec(path);
    const scope = vm && !own.has(path) ? `/vms/*@${ctx.vmPool(Number(vm[1])) ?? ''}` : path;
    const key = `${scope}\0${privs.join(',')}\0${any ? 1 : 0}`;
    let ok = memo.get(key);
    if (ok === undefined) {
      ok = hasPrivs(ctx, auth, path, privs, any);
      memo.set(key, ok);
    }
    return ok;
  };
}

/** RPCEnvironment::check / check_any: 403 naming the path and privilege(s). */
export function checkPrivs(ctx: PermissionContext, auth: AuthId, path: string, privs: readonly string[], any = false): void {
  const have = privilegesAt(ctx, auth, path);
  if (any) {
    if (!privs.some((p) => have.has(p))) throw new ApiError(403, `Permission check failed (${path}, ${privs.join('|')})\n`);
    return;
  }
  for (const p of privs) if (!have.has(p)) throw new ApiError(403, `Permission check failed (${path}, ${p})\n`);
}

const substitute = (template: string, params: Record<string, unknown>): string =>
  template.replace(/\{([^}]+)\}/g, (_, name: string) => String(params[name] ?? ''));

/**
 * Evaluates an apidoc `permissions.check` rule (RPCEnvironment::check_api2_permissions)
 * with the raw request parameters. Throws a 403 ApiError when it fails.
 */
export function evaluateCheck(ctx: PermissionContext, auth: AuthId, check: unknown[], params: Record<string, unknown>, noerr = false): boolean {
  const [op, ...rest] = check as [string, ...unknown[]];
  const deny = (msg?: string): boolean => {
    if (noerr) return false;
    throw new ApiError(403, `${msg ?? 'Permission check failed'}\n`);
  };
  switch (op) {
    case 'and':
      for (const sub of rest) if (!evaluateCheck(ctx, auth, sub as unknown[], params, noerr)) return false;
      return true;
    case 'or':
      for (const sub of rest) if (evaluateCheck(ctx, auth, sub as unknown[], params, true)) return true;
      return deny();
    case 'perm': {
      const [tmpl, privs, ...opts] = rest as [string, string[], ...unknown[]];
      const options: Record<string, unknown> = {};
      for (let i = 0; i + 1 < opts.length; i += 2) options[String(opts[i])] = opts[i + 1];
      const required = options.require_param;
      if (typeof required === 'string' && (params[required] === undefined || params[required] === '')) return deny();
      const path = substitute(tmpl, params);
      const ok = hasPrivs(ctx, auth, path, privs, Boolean(options.any));
      if (ok) return true;
      if (noerr) return false;
      checkPrivs(ctx, auth, path, privs, Boolean(options.any));
      return false;
    }
    case 'userid-param': {
      const userid = String(params.userid ?? '');
      if (rest[0] === 'self' && userid === auth.user && auth.token === undefined) return true;
      if (rest[0] === 'self' && userid === auth.user) return true;
      return deny();
    }
    case 'userid-group': {
      const privs = rest[0] as string[];
      if (hasPrivs(ctx, auth, '/access/groups', privs)) return true;
      return deny();
    }
    case 'perm-modify': {
      const path = substitute(String(rest[0]), params);
      if (hasPrivs(ctx, auth, path, ['Permissions.Modify'])) return true;
      if (noerr) return false;
      checkPrivs(ctx, auth, path, ['Permissions.Modify']);
      return false;
    }
    default:
      return deny();
  }
}

/** The paths GET /access/permissions reports when no `path` is given. */
export function permissionPaths(ctx: PermissionContext, poolMembers: string[]): string[] {
  const paths = new Set(['/', '/access', '/access/groups', '/nodes', '/pool', '/sdn', '/storage', '/vms']);
  for (const a of ctx.access.acl) paths.add(a.path);
  for (const p of poolMembers) paths.add(p);
  return [...paths].sort();
}
