import { die, paramError } from '../errors.js';
import type { SimCore } from '../model/core.js';
import { memoryMiB } from '../model/qemu-config.js';
import type { AuthId } from '../auth/permissions.js';
import type { Guest, NodeInfo } from '../model/types.js';
import { vmStatus } from './qemu.js';
import { type HandlerCtx, reqStr, str } from './context.js';

export function version(ctx: HandlerCtx): unknown {
  const v = ctx.core.state.pveVersion;
  return { version: v, release: v.split('.').slice(0, 2).join('.'), repoid: ctx.core.state.repoid };
}

/** Memory in use on a node: a base plus the running guests' memory. */
export function nodeMemUsed(core: SimCore, n: NodeInfo): number {
  const guests = Object.values(core.state.guests).filter((g) => g.node === n.name && g.status === 'running');
  return Math.min(n.memory, 2 * 1024 ** 3 + guests.reduce((a, g) => a + memoryMiB(g.config) * 1024 * 1024, 0));
}

export function nodeStats(core: SimCore, n: NodeInfo): Record<string, unknown> {
  return {
    cpu: 0.02,
    maxcpu: n.cpus,
    mem: nodeMemUsed(core, n),
    maxmem: n.memory,
    disk: Math.floor(n.rootfs * 0.1),
    maxdisk: n.rootfs,
    uptime: Math.max(0, core.now() - n.bootTime),
  };
}

function vmResource(core: SimCore, g: Guest): Record<string, unknown> {
  const base: Record<string, unknown> = { id: `qemu/${g.vmid}`, type: 'qemu', vmid: g.vmid, node: g.node, template: g.config.template === '1' ? 1 : 0 };
  if (core.nowMs() < g.visibleAt) {
    base.status = 'unknown';
  } else {
    const st = vmStatus(core, g);
    Object.assign(base, {
      status: g.status,
      name: st.name,
      maxcpu: st.cpus,
      cpu: st.cpu,
      maxmem: st.maxmem,
      mem: st.mem,
      memhost: st.mem,
      maxdisk: st.maxdisk,
      disk: 0,
      netin: st.netin,
      netout: st.netout,
      diskread: st.diskread,
      diskwrite: st.diskwrite,
      uptime: st.uptime,
    });
  }
  if (g.pool) base.pool = g.pool;
  if (g.config.lock) base.lock = g.config.lock;
  if (g.config.tags) base.tags = g.config.tags;
  return base;
}

function storageResources(core: SimCore, auth: AuthId): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const n of core.state.nodes) {
    for (const s of core.state.storages) {
      if (s.nodes && !s.nodes.includes(n.name)) continue;
      if (!core.can(auth, `/storage/${s.storage}`, ['Datastore.Audit', 'Datastore.AllocateSpace'], true)) continue;
      const st = core.storageStatus(s, n.name);
      const e: Record<string, unknown> = {
        id: `storage/${n.name}/${s.storage}`,
        type: 'storage',
        storage: s.storage,
        node: n.name,
        plugintype: s.type,
        status: n.online && !s.disable ? 'available' : 'unknown',
        shared: s.shared ? 1 : 0,
        content: [...s.content].sort().join(','),
        disk: st.used,
        maxdisk: st.total,
      };
      const pool = Object.values(core.state.pools).find((p) => p.storage.includes(s.storage));
      if (pool) e.pool = pool.poolid;
      out.push(e);
    }
  }
  return out;
}

const VM_AUDIT = ['VM.Audit'];

export function resources(ctx: HandlerCtx): unknown {
  const { core, auth } = ctx;
  const type = str(ctx, 'type');
  const out: Record<string, unknown>[] = [];
  if (!type || type === 'vm') {
    const can = core.canMany(auth);
    for (const g of Object.values(core.state.guests).sort((a, b) => a.vmid - b.vmid)) {
      if (can(`/vms/${g.vmid}`, VM_AUDIT)) out.push(vmResource(core, g));
    }
  }
  if (!type || type === 'node') {
    for (const n of core.state.nodes) {
      if (!core.can(auth, `/nodes/${n.name}`, ['Sys.Audit'])) continue;
      const e: Record<string, unknown> = { id: `node/${n.name}`, type: 'node', node: n.name, status: n.online ? 'online' : 'offline', level: '' };
      if (n.online) Object.assign(e, nodeStats(core, n), { 'cgroup-mode': 2 });
      out.push(e);
    }
  }
  if (!type || type === 'storage') out.push(...storageResources(core, auth));
  if (!type || type === 'sdn') {
    for (const n of core.state.nodes) {
      if (core.can(auth, '/sdn/zones/localnetwork', ['SDN.Audit', 'SDN.Use', 'SDN.Allocate'], true))
        out.push({ id: `sdn/${n.name}/localnetwork`, type: 'sdn', sdn: 'localnetwork', node: n.name, status: 'ok' });
    }
  }
  if (!type) {
    for (const p of Object.values(core.state.pools).sort((a, b) => a.poolid.localeCompare(b.poolid))) {
      if (core.can(auth, `/pool/${p.poolid}`, ['Pool.Audit'])) out.push({ id: `/pool/${p.poolid}`, type: 'pool', pool: p.poolid });
    }
  }
  return out;
}

export function nextid(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const vmid = str(ctx, 'vmid');
  if (vmid !== undefined) {
    if (core.guest(Number(vmid))) paramError({ vmid: `VM ${vmid} already exists` });
    return vmid;
  }
  for (let i = core.state.nextIdLower; i < core.state.nextIdUpper; i++) if (!core.guest(i)) return String(i);
  die(`unable to get any free VMID in range [${core.state.nextIdLower}, ${core.state.nextIdUpper}]`);
}

export function clusterStatus(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const out: Record<string, unknown>[] = [];
  const nodes = core.state.nodes;
  if (core.state.clusterName) {
    out.push({ type: 'cluster', id: 'cluster', name: core.state.clusterName, nodes: nodes.length, quorate: 1, version: nodes.length + 2 });
  }
  nodes.forEach((n, i) => {
    out.push({ type: 'node', id: `node/${n.name}`, name: n.name, nodeid: i + 1, ip: n.ip, online: n.online ? 1 : 0, local: i === 0 ? 1 : 0, level: '' });
  });
  return out;
}

// ---- pools -------------------------------------------------------------------

function poolMembers(core: SimCore, poolid: string, type?: string): Record<string, unknown>[] {
  const members: Record<string, unknown>[] = [];
  if (!type || type === 'qemu') {
    for (const g of Object.values(core.state.guests).sort((a, b) => a.vmid - b.vmid)) if (g.pool === poolid) members.push(vmResource(core, g));
  }
  if (!type || type === 'storage') {
    const p = core.state.pools[poolid];
    for (const n of core.state.nodes) {
      for (const sid of p?.storage ?? []) {
        const s = core.storage(sid);
        if (!s || (s.nodes && !s.nodes.includes(n.name))) continue;
        const st = core.storageStatus(s, n.name);
        members.push({ id: `storage/${n.name}/${sid}`, type: 'storage', storage: sid, node: n.name, plugintype: s.type, status: 'available', shared: s.shared ? 1 : 0, content: [...s.content].sort().join(','), disk: st.used, maxdisk: st.total, pool: poolid });
      }
    }
  }
  return members;
}

export function listPools(ctx: HandlerCtx): unknown {
  const { core, auth } = ctx;
  const poolid = str(ctx, 'poolid');
  const type = str(ctx, 'type');
  if (poolid !== undefined) {
    const p = core.state.pools[poolid];
    if (!p) die(`pool '${poolid}' does not exist`);
    core.check(auth, `/pool/${poolid}`, ['Pool.Audit']);
    const e: Record<string, unknown> = { poolid, members: poolMembers(core, poolid, type) };
    if (p.comment !== undefined) e.comment = p.comment;
    return [e];
  }
  return Object.values(core.state.pools)
    .sort((a, b) => a.poolid.localeCompare(b.poolid))
    .filter((p) => core.can(auth, `/pool/${p.poolid}`, ['Pool.Audit']))
    .map((p) => (p.comment !== undefined ? { poolid: p.poolid, comment: p.comment } : { poolid: p.poolid }));
}

export function createPool(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const poolid = reqStr(ctx, 'poolid');
  if (core.state.pools[poolid]) die(`pool '${poolid}' already exists`);
  const p: { poolid: string; comment?: string; storage: string[] } = { poolid, storage: [] };
  const comment = str(ctx, 'comment');
  if (comment !== undefined) p.comment = comment;
  core.state.pools[poolid] = p;
  core.changed();
  return null;
}

export function getPool(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const poolid = reqStr(ctx, 'poolid');
  const p = core.state.pools[poolid];
  if (!p) die(`pool '${poolid}' does not exist`);
  const out: Record<string, unknown> = { members: poolMembers(core, poolid, str(ctx, 'type')) };
  if (p.comment !== undefined) out.comment = p.comment;
  return out;
}

export function deletePool(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const poolid = reqStr(ctx, 'poolid');
  const p = core.state.pools[poolid];
  if (!p) die(`pool '${poolid}' does not exist`);
  if (poolMembers(core, poolid).length > 0) die(`pool '${poolid}' is not empty`);
  delete core.state.pools[poolid];
  core.state.access.acl = core.state.access.acl.filter((a) => a.path !== `/pool/${poolid}`);
  core.changed();
  return null;
}

