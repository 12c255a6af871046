import { manifestForChannel, vmHosts, type ImageRecords, type Lab } from '@ahl/core';
import { isManaged, type DiskFact, type RunwayFacts } from './facts.js';
import { minimalRole, missingPrivileges, privilegeNeeds, type MissingPrivilege } from './privileges.js';
import { runwayRequirements } from './requirements.js';

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL';

export interface RunwayCheck {
  /** Stable id, e.g. `node:pve1`, `storage:pve1/local-lvm`, `template:ubuntu-noble@stable`. */
  readonly id: string;
  readonly status: CheckStatus;
  readonly reason: string;
  readonly hint?: string;
}

export interface RunwayReport {
  readonly lab: string;
  readonly endpoint: string;
  readonly status: CheckStatus;
  readonly summary: { readonly pass: number; readonly warn: number; readonly fail: number };
  readonly checks: readonly RunwayCheck[];
  readonly missingPrivileges: readonly MissingPrivilege[];
  /** Present when privileges are missing: the role that would cover everything. */
  readonly minimalRole?: { readonly name: string; readonly privileges: readonly string[]; readonly commands: readonly string[] };
}

/** The oldest Proxmox VE release ahl supports (the bpg provider's floor). */
export const MIN_PVE_VERSION = '8.0';

const GiB = 1024 ** 3;
const BY_ID = '/dev/disk/by-id/';

/**
 * The node's disk a /dev/disk/by-id name points at, matched the way udev builds the names:
 * `wwn-<wwn>`, or `<bus>-<model>_<serial>` (with `-partN` for a partition). The disk list has no links.
 */
export function diskById(device: string, disks: readonly DiskFact[]): DiskFact | undefined {
  const id = device.slice(BY_ID.length).replace(/-part\d+$/, '');
  return disks.find((d) => (d.wwn !== undefined && id === `wwn-${d.wwn}`) || (d.serial !== undefined && id.endsWith(`_${d.serial}`)));
}

function versionAtLeast(version: string, min: string): boolean {
  const a = version.split(/[.-]/).map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < b.length; i++) {
    if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i]!;
  }
  return true;
}

/** The nodes whose shell a capture to the store needs: those running appliances, when lab.yaml has a captureStore. */
export function shellNodes(lab: Lab): string[] {
  if (!lab.config.captureStore) return [];
  return [...new Set(vmHosts(lab).filter((h) => h.kind === 'appliance').map((h) => h.node))].sort();
}

/**
 * Compares what the lab needs with what the server reports. Pure: facts in, report out; every
 * problem is a check with a reason and a hint, never an exception.
 */
export function planRunway(lab: Lab, facts: RunwayFacts, records: Readonly<Record<string, ImageRecords>>): RunwayReport {
  const checks: RunwayCheck[] = [];
  const add = (id: string, status: CheckStatus, reason: string, hint?: string) => checks.push({ id, status, reason, ...(hint ? { hint } : {}) });
  const endpoint = lab.config.proxmox.endpoint;
  const c = facts.connection;
  if (!c.ok) {
    if (c.kind === 'tls')
      add('tls', 'FAIL', c.expected ? `the server's certificate ${c.actual} is not the pinned ${c.expected}` : `TLS verification failed: ${c.message}`, c.expected ? 'if the server certificate was renewed on purpose, pin the new fingerprint in lab.yaml proxmox.tls.fingerprint' : 'pin the certificate (proxmox.tls.fingerprint), give its CA (proxmox.tls.ca), or fix the certificate');
    else if (c.kind === 'token') add('token', 'FAIL', `the API token was refused (${c.message})`, 'check proxmox.tokenId and the secret it references; tokens expire and can be deleted');
    else add('endpoint', 'FAIL', `${endpoint} is not reachable: ${c.message}`, 'check proxmox.endpoint, the network, and that pveproxy runs');
    return finish(lab, checks, []);
  }
  add('endpoint', 'PASS', `${endpoint} answers`);
  add('token', 'PASS', `token ${lab.config.proxmox.tokenId.startsWith('env:') ? '(from env)' : lab.config.proxmox.tokenId} accepted`);
  if (facts.version) {
    if (versionAtLeast(facts.version, MIN_PVE_VERSION)) add('version', 'PASS', `Proxmox VE ${facts.version}`);
    else add('version', 'FAIL', `Proxmox VE ${facts.version} is older than ${MIN_PVE_VERSION}`, 'upgrade Proxmox VE');
  }

  const needs = privilegeNeeds(lab);
  let missing: MissingPrivilege[] = [];
  if (!facts.permissions) add('privileges', 'WARN', 'the token may not read its own permissions', 'grant Sys.Audit on /access or check the token');
  else {
    missing = missingPrivileges(facts.permissions, needs);
    if (missing.length === 0) add('privileges', 'PASS', `all ${new Set(needs.flatMap((n) => n.privileges)).size} privileges the layers need are granted`);
    else
      add(
        'privileges',
        'FAIL',
        `${missing.length} privilege${missing.length === 1 ? '' : 's'} missing: ${missing.map((m) => `${m.privilege} on ${m.path} (${m.layer})`).join(', ')}`,
        `create the role and grant it: ${minimalRole(needs, lab.config.proxmox.tokenId).commands.join(' && ')}`,
      );
  }

  const req = runwayRequirements(lab);
  const nodeStatus = new Map((facts.nodes ?? []).map((n) => [n.node, n.status]));
  for (const n of req.nodes) {
    const status = nodeStatus.get(n.node);
    if (status === 'online') add(`node:${n.node}`, 'PASS', `${n.node} is online`);
    else if (status) add(`node:${n.node}`, 'FAIL', `${n.node} is ${status}`, 'start the node or move its hosts');
    else add(`node:${n.node}`, 'FAIL', `${n.node} is not in the cluster${facts.nodes ? ` (nodes: ${[...nodeStatus.keys()].join(', ')})` : ''}`, 'fix the node name in lab.yaml or the persona');
    if (status !== 'online') continue;

    const ifaces = facts.networks?.[n.node];
    for (const bridge of n.bridges) {
      const i = ifaces?.find((x) => x.iface === bridge);
      if (!ifaces) add(`bridge:${n.node}/${bridge}`, 'WARN', `could not read ${n.node}'s network`);
      else if (!i) add(`bridge:${n.node}/${bridge}`, 'FAIL', `${bridge} does not exist on ${n.node}`, `create the bridge on ${n.node} or set the persona's network.bridge`);
      else if (i.type !== 'bridge' && i.type !== 'OVSBridge') add(`bridge:${n.node}/${bridge}`, 'FAIL', `${bridge} on ${n.node} is a ${i.type}, not a bridge`);
      else if (!i.active) add(`bridge:${n.node}/${bridge}`, 'WARN', `${bridge} on ${n.node} exists but is not active`, 'apply the pending network configuration (ifreload -a)');
      else add(`bridge:${n.node}/${bridge}`, 'PASS', `${bridge} is active on ${n.node}`);
    }

    for (const [storage, content] of Object.entries(n.storages)) {
      const id = `storage:${n.node}/${storage}`;
      const s = facts.storages?.find((x) => x.node === n.node && x.storage === storage);
      if (!s) {
        add(id, 'FAIL', `${storage} is not available on ${n.node}`, `add the storage in Datacenter → Storage (or fix lab.yaml defaults.storage)`);
        continue;
      }
      if (!s.enabled) {
        add(id, 'FAIL', `${storage} is disabled`, 'enable it in Datacenter → Storage');
        continue;
      }
      if (s.status !== 'available') {
        add(id, 'FAIL', `${storage} on ${n.node} is ${s.status}`);
        continue;
      }
      const lacking = content.filter((t) => !s.content.includes(t));
      if (lacking.length) {
        add(id, 'FAIL', `${storage} lacks the content type${lacking.length > 1 ? 's' : ''} ${lacking.join(', ')} (has ${s.content.join(', ') || 'none'})`, `add ${lacking.join(', ')} to ${storage}'s content in Datacenter → Storage`);
        continue;
      }
      const freeGiB = (s.total - s.used) / GiB;
      const freePct = s.total ? ((s.total - s.used) / s.total) * 100 : 0;
      const iso = content.includes('import') || content.includes('iso');
      const { minFreeGibIso, minFreePctVm } = lab.config.runway;
      if (iso && freeGiB < minFreeGibIso) add(id, 'FAIL', `${storage} has ${freeGiB.toFixed(1)} GiB free, below ${minFreeGibIso} GiB`, 'free space or raise runway.minFreeGibIso knowingly');
      else if (content.includes('images') && freePct < minFreePctVm) add(id, 'FAIL', `${storage} is ${freePct.toFixed(1)}% free, below ${minFreePctVm}%`, 'free space or raise runway.minFreePctVm knowingly');
      else add(id, 'PASS', `${storage} (${content.join(', ')}): ${freeGiB.toFixed(1)} GiB free, ${freePct.toFixed(0)}%`);
    }

    for (const p of n.passthrough) {
      const id = `disk:${n.node}/${p.device.slice(BY_ID.length)}`;
      const list = facts.disks?.[n.node];
      const d = list && diskById(p.device, list);
      if (!list) add(id, 'WARN', `could not read ${n.node}'s disks for ${p.host}'s ${p.slot}`);
      else if (!d) add(id, 'FAIL', `${p.device} (${p.host} ${p.slot}) is not a disk of ${n.node}`, `list the node's ids with \`ls -l ${BY_ID}\` on ${n.node} and fix the persona's passthrough device`);
      else if (d.used === 'LVM' || d.used === 'mounted') add(id, 'FAIL', `${p.device} is ${d.devpath}, which ${n.node} itself uses (${d.used})`, 'a disk the node uses must not be given to a VM; pick another disk');
      else add(id, 'PASS', `${p.device} is ${d.devpath} on ${n.node}${d.model ? ` (${d.model}, ${(d.size / GiB).toFixed(0)} GiB)` : ''} for ${p.host} ${p.slot}`);
    }
  }
  const withDisks = req.nodes.flatMap((n) => n.passthrough.map((p) => p.host));
  if (withDisks.length && !lab.config.proxmox.rootPassword)
    add('passthrough:root', 'WARN', `attaching passthrough disks (${[...new Set(withDisks)].join(', ')}) needs root@pam, and no proxmox.rootPassword is set`, 'set proxmox.rootPassword to a secret reference, or run the `qm set` lines `ahl passthrough` prints on the node as root');

  for (const node of shellNodes(lab)) {
    const sh = facts.shells?.[node];
    if (!sh) continue;
    const id = `shell:${node}`;
    const fix = `set nodes.${node}.ssh in lab.yaml ([USER@]HOST[:PORT]) and authorise ssh.privateKey's public key for that user on ${node}`;
    if (!sh.ok) add(id, 'WARN', `${node}'s shell (${sh.where}) cannot be used, so \`ahl image capture --to store\` will fail: ${sh.reason}`, fix);
    else if (!sh.qemuImg) add(id, 'WARN', `${sh.where} has no qemu-img on its PATH, which a capture to the store runs`, `is ${sh.where} a Proxmox VE node? ${fix}`);
    else if (sh.user !== 'root') add(id, 'WARN', `${sh.where} answers as ${sh.user}, who may not read VM disks (a capture to the store reads them)`, `use root, or give ${sh.user} read access to the VM volumes (the disk group)`);
    else add(id, 'PASS', `${sh.where} answers as root and has qemu-img, for captures to the store`);
  }

  const guests = facts.guests ?? [];
  const refs = [...new Set(vmHosts(lab).map((h) => h.template.ref))].sort();
  for (const ref of refs) {
    const [image, channel] = ref.split('@') as [string, string];
    const rec = records[image];
    const m = rec ? manifestForChannel(rec, channel) : undefined;
    if (!m) {
      add(`template:${ref}`, 'WARN', `no template is promoted to ${channel} for ${image} yet`, `ahl image build ${image} (then ahl image promote ${image} VERSION)`);
      continue;
    }
    const g = guests.find((x) => x.vmid === m.vmid);
    if (!g) add(`template:${ref}`, 'FAIL', `${m.templateName} (vmid ${m.vmid}) from the manifest is not on the server`, `ahl image build ${image} --force, or roll the channel back`);
    else if (!g.template) add(`template:${ref}`, 'FAIL', `vmid ${m.vmid} is a VM, not a template`);
    // A name not reported yet (''): the cluster lists a guest made moments ago without one until its
    // stats are next gathered (about 10 s), so only its node can be compared.
    else if (g.node !== m.node || (g.name !== '' && g.name !== m.templateName)) add(`template:${ref}`, 'FAIL', `vmid ${m.vmid} is ${g.name || '(unnamed)'} on ${g.node}, the manifest says ${m.templateName} on ${m.node}`);
    else add(`template:${ref}`, 'PASS', `${m.templateName} (vmid ${m.vmid}) on ${m.node}`);
  }

  let conflicts = 0;
  for (const h of lab.hosts) {
    const byId = h.vmid !== undefined ? guests.find((g) => g.vmid === h.vmid) : undefined;
    if (byId && !(isManaged(byId) && byId.name === h.name)) {
      conflicts++;
      add(`conflict:vmid:${h.vmid}`, 'FAIL', `vmid ${h.vmid} of ${h.name} is taken by ${byId.template ? 'template' : 'guest'} ${byId.name || '(unnamed)'} on ${byId.node}`, 'choose another vmid for the host, or remove the guest');
    }
    const byName = guests.find((g) => g.name === h.name && !isManaged(g));
    if (byName) {
      conflicts++;
      add(`conflict:name:${h.name}`, 'FAIL', `an unmanaged guest ${byName.vmid} on ${byName.node} is already named ${h.name}`, 'rename or remove that guest, or rename the host');
    }
    if (h.ip) {
      const owner = Object.entries(facts.unmanagedAddresses ?? {}).find(([, ips]) => ips.includes(h.ip!.address));
      if (owner) {
        conflicts++;
        add(`conflict:ip:${h.ip.address}`, 'FAIL', `${h.ip.address} of ${h.name} is configured on unmanaged guest ${owner[0]}`, 'change the host address or the guest');
      }
    }
  }
  if (conflicts === 0) add('conflicts', 'PASS', `no unmanaged guest uses a vmid, name or address of the lab's ${lab.hosts.length} hosts`);
  return finish(lab, checks, missing);
}

function finish(lab: Lab, checks: RunwayCheck[], missing: MissingPrivilege[]): RunwayReport {
  const summary = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) summary[c.status === 'PASS' ? 'pass' : c.status === 'WARN' ? 'warn' : 'fail']++;
  return {
    lab: lab.name,
    endpoint: lab.config.proxmox.endpoint,
    status: summary.fail ? 'FAIL' : summary.warn ? 'WARN' : 'PASS',
    summary,
    checks,
    missingPrivileges: missing,
    ...(missing.length ? { minimalRole: minimalRole(privilegeNeeds(lab), lab.config.proxmox.tokenId) } : {}),
  };
}
