import { paramError } from '../errors.js';
import { parseAuthId } from '../auth/permissions.js';
import { parseUpid } from '../model/tasks.js';
import type { TaskRecord } from '../model/types.js';
import { nodeMemUsed, nodeStats } from './cluster.js';
import { type HandlerCtx, bool, int, reqStr, str } from './context.js';

export function listNodes(ctx: HandlerCtx): unknown {
  const { core, auth } = ctx;
  return core.state.nodes.map((n) => {
    const e: Record<string, unknown> = { node: n.name, status: n.online ? 'online' : 'offline', id: `node/${n.name}`, type: 'node', level: '', ssl_fingerprint: n.sslFingerprint };
    if (n.online && core.can(auth, `/nodes/${n.name}`, ['Sys.Audit'])) Object.assign(e, nodeStats(core, n));
    return e;
  });
}

export function nodeStatus(ctx: HandlerCtx): unknown {
  const { core } = ctx;
  const n = core.node(reqStr(ctx, 'node'))!;
  const used = nodeMemUsed(core, n);
  const kernel = '6.17.2-1-pve';
  return {
    uptime: Math.max(0, core.now() - n.bootTime),
    cpu: 0.02,
    wait: 0,
    idle: 0,
    loadavg: ['0.12', '0.08', '0.05'],
    cpuinfo: { cpus: n.cpus, cores: Math.max(1, Math.floor(n.cpus / n.sockets / 2)) || 1, sockets: n.sockets, model: n.cpuModel, mhz: '2400.000', hvm: '1', user_hz: 100, flags: 'fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov' },
    memory: { total: n.memory, used, free: n.memory - used, available: n.memory - used },
    swap: { total: 8 * 1024 ** 3, used: 0, free: 8 * 1024 ** 3 },
    rootfs: { total: n.rootfs, used: Math.floor(n.rootfs * 0.1), free: n.rootfs - Math.floor(n.rootfs * 0.1), avail: n.rootfs - Math.floor(n.rootfs * 0.15) },
    ksm: { shared: 0 },
    pveversion: `pve-manager/${core.state.pveVersion}/${core.state.repoid}`,
    kversion: `Linux ${kernel} #1 SMP PREEMPT_DYNAMIC PMX ${kernel} (2025-11-01T00:00Z)`,
    'current-kernel': { sysname: 'Linux', release: kernel, version: `#1 SMP PREEMPT_DYNAMIC PMX ${kernel} (2025-11-01T00:00Z)`, machine: 'x86_64' },
    'boot-info': { mode: 'efi', secureboot: 0 },
  };
}

export function nodeNetwork(ctx: HandlerCtx): unknown {
  const n = ctx.core.node(reqStr(ctx, 'node'))!;
  const type = str(ctx, 'type');
  return n.network
    .filter((i) => {
      if (!type) return true;
      if (type === 'any_bridge' || type === 'any_local_bridge' || type === 'include_sdn') return i.type === 'bridge' || i.type === 'OVSBridge';
      return i.type === type;
    })
    .slice()
    .sort((a, b) => a.iface.localeCompare(b.iface));
}

/** Diskmanage's list: whole disks (partitions are not simulated), `type=unused` keeps the free ones. */
export function nodeDisks(ctx: HandlerCtx): unknown {
  const n = ctx.core.node(reqStr(ctx, 'node'))!;
  const type = str(ctx, 'type');
  return (n.disks ?? [])
    .filter((d) => type !== 'unused' || d.used === undefined)
    .map((d) => ({
      devpath: d.devpath,
      size: d.size,
      type: d.type,
      gpt: d.used === 'partitions' || d.used === 'LVM' ? 1 : 0,
      mounted: 0,
      health: 'PASSED',
      osdid: -1,
      'osdid-list': null,
      rpm: d.type === 'hdd' ? 7200 : 0,
      wearout: d.type === 'hdd' ? 'N/A' : 100,
      ...(d.model !== undefined ? { model: d.model } : {}),
      ...(d.serial !== undefined ? { serial: d.serial } : {}),
      ...(d.vendor !== undefined ? { vendor: d.vendor } : {}),
      ...(d.wwn !== undefined ? { wwn: d.wwn } : {}),
      ...(d.used !== undefined ? { used: d.used } : {}),
    }))
    .sort((a, b) => a.devpath.localeCompare(b.devpath));
}

// ---- tasks ---------------------------------------------------------------------

/** convert_token_task: tokens show as the user plus `tokenid`. */
function taskView(t: TaskRecord, withStatus: boolean): Record<string, unknown> {
  const a = parseAuthId(t.user);
  const e: Record<string, unknown> = { upid: t.upid, node: t.node, pid: t.pid, pstart: t.pstart, starttime: t.starttime, type: t.type, id: t.id, user: a.user };
  if (a.token !== undefined) e.tokenid = a.token;
  if (withStatus) {
    e.status = t.status;
    if (t.status === 'stopped') e.exitstatus = t.exitstatus ?? 'unexpected status';
  } else if (t.status === 'stopped') {
    e.status = t.exitstatus ?? 'unexpected status';
    e.endtime = t.endtime;
  }
  return e;
}

function canSeeTask(ctx: HandlerCtx, t: TaskRecord): boolean {
  const owner = parseAuthId(t.user);
  if (t.user === ctx.auth.id) return true;
  if (ctx.auth.token === undefined && owner.user === ctx.auth.user) return true;
  return ctx.core.can(ctx.auth, `/nodes/${t.node}`, ['Sys.Audit']);
}

export function listTasks(ctx: HandlerCtx): unknown {
  const node = reqStr(ctx, 'node');
  const start = int(ctx, 'start') ?? 0;
  const limit = int(ctx, 'limit') ?? 50;
  const vmid = str(ctx, 'vmid');
  const typefilter = str(ctx, 'typefilter');
  const userfilter = str(ctx, 'userfilter');
  const errors = bool(ctx, 'errors') ?? false;
  const source = str(ctx, 'source') ?? 'archive';
  const since = int(ctx, 'since');
  const until = int(ctx, 'until');
  const list = ctx.core.state.tasks
    .filter((t) => t.node === node && canSeeTask(ctx, t))
    .filter((t) => (source === 'all' ? true : source === 'active' ? t.status === 'running' : t.status === 'stopped'))
    .filter((t) => (vmid === undefined || t.id === vmid) && (!typefilter || t.type === typefilter) && (!userfilter || t.user.includes(userfilter)))
    .filter((t) => !errors || (t.status === 'stopped' && t.exitstatus !== 'OK'))
    .filter((t) => (since === undefined || t.starttime >= since) && (until === undefined || t.starttime <= until))
    .sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
  ctx.total = list.length;
  return list.slice(start, start + limit).map((t) => taskView(t, false));
}

function findTask(ctx: HandlerCtx): TaskRecord {
  const node = reqStr(ctx, 'node');
  const upid = reqStr(ctx, 'upid');
  const parsed = parseUpid(upid);
  if (!parsed) paramError({ upid: 'unable to parse worker upid' });
  const t = ctx.core.tasks.find(upid);
  if (!t || parsed.node !== node) paramError({ upid: 'no such task' });
  if (!canSeeTask(ctx, t)) ctx.core.check(ctx.auth, `/nodes/${node}`, ['Sys.Audit']);
  return t;
}

export function taskStatus(ctx: HandlerCtx): unknown {
  return taskView(findTask(ctx), true);
}

export function taskLog(ctx: HandlerCtx): unknown {
  const t = findTask(ctx);
  const start = int(ctx, 'start') ?? 0;
  const limit = int(ctx, 'limit') ?? 50;
  const lines = t.log.length ? t.log : [];
  ctx.total = lines.length;
  if (lines.length === 0) return [{ n: 1, t: 'no content' }];
  const slice = limit === 0 ? lines.slice(start) : lines.slice(start, start + limit);
  return slice.map((text, i) => ({ n: start + i + 1, t: text }));
}

export function stopTask(ctx: HandlerCtx): unknown {
  const t = findTask(ctx);
  if (t.user !== ctx.auth.id) ctx.core.check(ctx.auth, `/nodes/${t.node}`, ['Sys.Modify']);
  ctx.core.tasks.stop(t.upid);
  return null;
}
