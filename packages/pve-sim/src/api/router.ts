import { APIDOC_SUBSET } from '../generated/apidoc-subset.js';
import type { EndpointSchema } from '../schema/types.js';
import * as access from './access.js';
import * as cluster from './cluster.js';
import type { Handler } from './context.js';
import * as nodes from './nodes.js';
import * as qemu from './qemu.js';
import * as storage from './storage.js';

/** Every implemented operation; keys must equal those of the generated schema subset. */
export const HANDLERS: Record<string, Handler> = {
  'GET /version': cluster.version,
  'POST /access/ticket': access.createTicketHandler,
  'GET /access/permissions': access.permissions,
  'GET /access/users': access.listUsers,
  'GET /access/users/{userid}/token': access.listTokens,
  'POST /access/users/{userid}/token/{tokenid}': access.createToken,
  'DELETE /access/users/{userid}/token/{tokenid}': access.deleteToken,
  'GET /access/roles': access.listRoles,
  'GET /access/acl': access.listAcl,
  'PUT /access/acl': access.updateAcl,
  'GET /cluster/resources': cluster.resources,
  'GET /cluster/nextid': cluster.nextid,
  'GET /cluster/status': cluster.clusterStatus,
  'GET /pools': cluster.listPools,
  'POST /pools': cluster.createPool,
  'GET /pools/{poolid}': cluster.getPool,
  'DELETE /pools/{poolid}': cluster.deletePool,
  'GET /storage': storage.listStorageConfig,
  'GET /storage/{storage}': storage.getStorageConfig,
  'GET /nodes': nodes.listNodes,
  'GET /nodes/{node}/status': nodes.nodeStatus,
  'GET /nodes/{node}/network': nodes.nodeNetwork,
  'GET /nodes/{node}/disks/list': nodes.nodeDisks,
  'GET /nodes/{node}/query-url-metadata': storage.queryUrlMetadata,
  'GET /nodes/{node}/tasks': nodes.listTasks,
  'GET /nodes/{node}/tasks/{upid}/status': nodes.taskStatus,
  'GET /nodes/{node}/tasks/{upid}/log': nodes.taskLog,
  'DELETE /nodes/{node}/tasks/{upid}': nodes.stopTask,
  'GET /nodes/{node}/storage': storage.listNodeStorage,
  'GET /nodes/{node}/storage/{storage}/status': storage.storageStatus,
  'GET /nodes/{node}/storage/{storage}/content': storage.listContent,
  'GET /nodes/{node}/storage/{storage}/content/{volume}': storage.getContent,
  'DELETE /nodes/{node}/storage/{storage}/content/{volume}': storage.deleteContent,
  'POST /nodes/{node}/storage/{storage}/download-url': storage.downloadUrl,
  'POST /nodes/{node}/vzdump': storage.vzdump,
  'GET /nodes/{node}/qemu': qemu.listQemu,
  'POST /nodes/{node}/qemu': qemu.createVm,
  'DELETE /nodes/{node}/qemu/{vmid}': qemu.deleteVm,
  'GET /nodes/{node}/qemu/{vmid}/config': qemu.getConfig,
  'POST /nodes/{node}/qemu/{vmid}/config': qemu.postConfig,
  'PUT /nodes/{node}/qemu/{vmid}/config': qemu.putConfig,
  'GET /nodes/{node}/qemu/{vmid}/pending': qemu.getPending,
  'POST /nodes/{node}/qemu/{vmid}/clone': qemu.cloneVm,
  'PUT /nodes/{node}/qemu/{vmid}/resize': qemu.resizeVm,
  'POST /nodes/{node}/qemu/{vmid}/template': qemu.templateVm,
  'POST /nodes/{node}/qemu/{vmid}/move_disk': qemu.moveDisk,
  'GET /nodes/{node}/qemu/{vmid}/status/current': qemu.statusCurrent,
  'POST /nodes/{node}/qemu/{vmid}/status/start': qemu.vmStart,
  'POST /nodes/{node}/qemu/{vmid}/status/stop': qemu.vmStop,
  'POST /nodes/{node}/qemu/{vmid}/status/shutdown': qemu.vmShutdown,
  'POST /nodes/{node}/qemu/{vmid}/status/reboot': qemu.vmReboot,
  'POST /nodes/{node}/qemu/{vmid}/status/reset': qemu.vmReset,
  'GET /nodes/{node}/qemu/{vmid}/cloudinit/dump': qemu.cloudinitDump,
  'POST /nodes/{node}/qemu/{vmid}/agent/ping': qemu.agentPing,
  'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces': qemu.agentInterfaces,
};

export interface Route {
  key: string;
  template: string;
  method: string;
  schema: EndpointSchema;
  handler: Handler;
  segments: string[];
}

export const ROUTES: Route[] = Object.entries(HANDLERS).map(([key, handler]) => {
  const [method, template] = key.split(' ') as [string, string];
  const schema = APIDOC_SUBSET[key];
  if (!schema) throw new Error(`no schema for ${key}`);
  return { key, template, method, schema, handler, segments: template.split('/').filter(Boolean) };
});

/** Placeholders that take the rest of the path (RESTHandler fragmentDelimiter ''). */
const GREEDY = new Set(['volume']);

function matchSegments(segments: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const m = /^\{(.+)\}$/.exec(seg);
    if (m?.[1] && GREEDY.has(m[1]) && i === segments.length - 1) {
      if (parts.length <= i) return undefined;
      params[m[1]] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (m?.[1]) params[m[1]] = part;
    else if (seg !== part) return undefined;
  }
  return parts.length === segments.length ? params : undefined;
}

export type RouteMatch = { route: Route; pathParams: Record<string, string> } | { route: undefined };

/** Finds the route for a decoded path below /api2/json; literal segments win over placeholders. */
export function matchRoute(method: string, path: string): RouteMatch {
  const parts = path.split('/').filter(Boolean);
  const candidates = ROUTES.filter((r) => r.method === method)
    .map((r) => ({ r, p: matchSegments(r.segments, parts) }))
    .filter((x): x is { r: Route; p: Record<string, string> } => x.p !== undefined)
    .sort((a, b) => Object.keys(a.p).length - Object.keys(b.p).length);
  const best = candidates[0];
  return best ? { route: best.r, pathParams: best.p } : { route: undefined };
}
