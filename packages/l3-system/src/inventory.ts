import { ahlError, diskSerial, isRequirementRole, knownHostsFile, labFile, shellQuote, sshUser, systemStepTag, yamlLib, type Host, type Lab, type SystemSpec } from '@ahl/core';
import { BUNDLED_ROLES } from './content.js';
import { systemHosts } from './targets.js';

/** Rendered files, by path relative to the inventory folder: `inventory.yml` and `host_vars/HOST.yml`. */
export type InventoryFiles = Readonly<Record<string, string>>;

export interface InventoryOptions {
  /**
   * known_hosts file for SSH (default: the operator's own). Tests whose guests get new host keys on
   * every boot give a fresh file per lab, so accept-new stays safe without touching ~/.ssh.
   */
  readonly knownHostsFile?: string;
}

const HEADER = '# Rendered by ahl (L3 system) from the lab files; edits here are lost.\n';

/** An Ansible group name from a persona, OS or extra group: letters, digits and underscores only. */
export function groupName(prefix: string, name: string): string {
  return `${prefix}${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The OS family of a host, from its template's image (`other` when the image is unknown). */
export function osFamily(lab: Lab, host: Host): string {
  return lab.images[host.template.image]?.os.family ?? 'other';
}

/**
 * The SSH options ahl connects with, from lab.yaml's `ssh` section, as one string Ansible splits the
 * way a shell would (shlex): each argument quoted, so a value is always one option's value. The
 * schema already refuses whitespace and quotes in these paths and hosts; quoting holds if it did not.
 */
export function sshCommonArgs(lab: Lab, opts: InventoryOptions = {}): string {
  const ssh = lab.config.ssh;
  // accept-new trusts a host on first contact and refuses a changed key; strict needs it known already.
  const args = ['-o', `StrictHostKeyChecking=${ssh.hostKeyPolicy === 'strict' ? 'yes' : 'accept-new'}`, '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=10'];
  const known = opts.knownHostsFile ?? knownHostsFile(lab);
  if (known) args.push('-o', `UserKnownHostsFile=${known}`);
  if (ssh.jumpHost) args.push('-o', `ProxyJump=${ssh.jumpHost}`);
  return args.map(shellQuote).join(' ');
}

/** A lab role folder as written (`./roles/motd/`), as one key: `roles/motd`. */
export function roleFolder(role: string): string {
  return role.replace(/^\.\//, '').replace(/\/+$/, '');
}

/**
 * The name Ansible runs each of the lab's role folders under, by folder (`roles/motd` → `motd`): its
 * last segment, so task names read `motd : …`, unless another folder of the lab ends the same way or
 * it is the name of a bundled role; then its absolute path, which is unique. Decided over the whole
 * lab, never over the hosts of one run, so a host's variables (and its digest) do not depend on what
 * else is converged with it. The runner lays out the named ones as links (see `labRoleLinks`). Pure.
 */
export function labRoleNames(lab: Lab): Map<string, string> {
  const folders = [...new Set(systemHosts(lab).flatMap((h) => h.system!.roles.flatMap((r) => (r.role !== undefined && !isRequirementRole(r.role) ? [roleFolder(r.role)] : []))))].sort();
  const last = (f: string) => f.slice(f.lastIndexOf('/') + 1);
  const count = new Map<string, number>();
  for (const f of folders) count.set(last(f), (count.get(last(f)) ?? 0) + 1);
  return new Map(folders.map((f) => [f, count.get(last(f)) === 1 && !(BUNDLED_ROLES as readonly string[]).includes(last(f)) ? last(f) : labFile(lab, f)]));
}

/** An allow rule's source as nftables takes it: an address, or a network by its first address (10.0.0.7/24 → 10.0.0.0/24). */
function networkOf(from: string): string {
  const [addr, len] = from.split('/');
  if (len === undefined) return from;
  const bits = Number(len);
  const n = addr!.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const net = bits === 0 ? 0 : (n & ((0xffffffff << (32 - bits)) >>> 0)) >>> 0;
  return `${[24, 16, 8, 0].map((sh) => (net >>> sh) & 255).join('.')}/${bits}`;
}

/** MiB of a swap size as written: 512M, 2G. */
function mebibytes(size: string): number {
  return Number(size.slice(0, -1)) * (size.endsWith('G') ? 1024 : 1);
}

/**
 * The variables of system.roles, system.sysctl, firewall, swap and mounts. Every value is data: the
 * roles render it with templates (strictly validated by the schema), never build commands from it.
 */
function settingsVars(lab: Lab, host: Host, s: SystemSpec, names: Map<string, string>): Record<string, unknown> {
  const disks = host.disks.flatMap((d) => (d.mount ? [{ ...d.mount, label: d.mount.label ?? d.slot, serial: diskSerial(d.slot) }] : []));
  return {
    // Extra disks of the VM that L3 formats when blank and grows, found by their serial; mounted with system.mounts.
    ahl_disks: disks.map((d) => ({ fs: d.fs, label: d.label, path: d.path, serial: d.serial })),
    ahl_firewall:
      s.firewall && s.firewall.enabled
        ? {
            allow: s.firewall.allow.map((r) => ({ from: r.from === undefined ? null : networkOf(r.from), port: r.port, proto: r.proto })),
            icmp: s.firewall.icmp,
            // SSH is always let in, on 22 and on sshd's own port: a converge must not lock ahl out.
            ssh_ports: [...new Set([22, s.sshd.port])].sort((a, b) => a - b),
          }
        : null,
    ahl_mounts: [...s.mounts, ...disks].map((m) => ({ fs: m.fs, label: m.label, options: m.options.join(','), path: m.path })),
    // Extra NICs, checked by their MAC: cloud-init addresses them (ipconfigN), as on Proxmox.
    ahl_nics: host.nics.map((n, i) => ({ ip: n.ip === 'dhcp' ? null : n.ip, mac: n.mac?.toLowerCase() ?? null, net: `net${i + 1}` })),
    ahl_roles: s.roles.map((r) =>
      r.tasks !== undefined
        ? { tag: systemStepTag(r), tasks: labFile(lab, r.tasks) }
        : { role: isRequirementRole(r.role!) ? r.role! : names.get(roleFolder(r.role!))!, tag: systemStepTag(r) },
    ),
    ahl_swap: s.swap ? { enabled: s.swap.enabled, size_mib: s.swap.size === undefined ? null : mebibytes(s.swap.size) } : null,
    ahl_sysctl: Object.entries(s.sysctl)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => ({ key, value: String(value) })),
  };
}

/**
 * The variables the bundled roles read, from the persona's `system` section and the host's facts,
 * and the vars of the lab's own roles and task files as host variables of their own names.
 */
export function hostVars(lab: Lab, host: Host): Record<string, unknown> {
  const s = host.system;
  if (!s) throw ahlError('INTERNAL', { message: `host ${host.name} has no system section` });
  // The schema refuses ahl_… names and one name with two values, so the spread below overwrites nothing.
  const own = Object.assign({}, ...s.roles.map((r) => r.vars)) as Record<string, unknown>;
  return {
    ...own,
    ...settingsVars(lab, host, s, labRoleNames(lab)),
    ahl_apt_proxy: s.aptProxy ?? null,
    ahl_container_engine: s.containerEngine ? { kind: s.containerEngine.kind, source: s.containerEngine.source } : null,
    ahl_directories: s.directories.map((d) => ({ group: d.group, mode: d.mode, owner: d.owner, path: d.path })),
    ahl_files: s.files.map((f) => ({
      ...(f.content !== undefined ? { content: f.content } : {}),
      ...(f.source !== undefined ? { src: labFile(lab, f.source) } : {}),
      group: f.group,
      mode: f.mode,
      owner: f.owner,
      path: f.path,
    })),
    ahl_hostname: host.name,
    ahl_node_exporter: { enabled: s.monitoring.nodeExporter.enabled, listen: s.monitoring.nodeExporter.listen },
    ahl_os_family: osFamily(lab, host),
    ahl_packages: [...s.packages].sort(),
    ahl_persona: host.persona,
    ahl_remove_undeclared_users: s.removeUndeclaredUsers,
    ahl_services: s.services.map((v) => ({ enabled: v.enabled, name: v.name, state: v.state })),
    ahl_sshd: {
      allow_users: s.sshd.allowUsers ?? null,
      password_authentication: s.sshd.passwordAuthentication,
      permit_root_login: s.sshd.permitRootLogin,
      port: s.sshd.port,
    },
    ahl_timezone: s.timezone ?? null,
    ahl_unattended_upgrades: s.unattendedUpgrades,
    ahl_users: s.users.map((u) => ({ groups: [...u.groups].sort(), name: u.name, shell: u.shell, ssh_keys: u.sshKeys, sudo: u.sudo })),
  };
}

/**
 * Renders the Ansible inventory of every host L3 manages: one group per persona (`persona_NAME`),
 * per OS family (`os_FAMILY`) and per extra group of a host, connection settings from the lab, and
 * the system settings as host_vars. Pure and deterministic: keys sorted, hosts by name.
 */
export function renderInventory(lab: Lab, opts: InventoryOptions = {}): InventoryFiles {
  const hosts = systemHosts(lab);
  const groups = new Map<string, string[]>();
  const join_ = (g: string, h: string) => groups.set(g, [...(groups.get(g) ?? []), h]);
  const inventoryHosts: Record<string, Record<string, string>> = {};
  for (const h of hosts) {
    inventoryHosts[h.name] = { ansible_host: h.ip?.address ?? h.name, ansible_user: sshUser(lab) };
    join_(groupName('persona_', h.persona), h.name);
    join_(groupName('os_', osFamily(lab, h)), h.name);
    for (const g of h.groups) join_(groupName('', g), h.name);
  }
  const vars: Record<string, string> = { ansible_python_interpreter: '/usr/bin/python3', ansible_ssh_common_args: sshCommonArgs(lab, opts) };
  if (lab.config.ssh.privateKey) vars.ansible_ssh_private_key_file = labFile(lab, lab.config.ssh.privateKey);
  const inventory = {
    all: {
      children: Object.fromEntries([...groups].map(([g, hs]) => [g, { hosts: Object.fromEntries(hs.sort().map((h) => [h, null])) }])),
      hosts: inventoryHosts,
      vars,
    },
  };
  const files: Record<string, string> = { 'inventory.yml': HEADER + inventoryYaml(inventory) };
  for (const h of hosts) files[`host_vars/${h.name}.yml`] = HEADER + inventoryYaml(hostVars(lab, h));
  return Object.fromEntries(Object.entries(files).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * YAML as ahl's inventories are written: keys sorted, no folding, explicit nulls (L4 writes the same).
 * Every string is tagged `!unsafe`: Ansible templates variable values lazily on the controller, so a
 * `{{ lookup('pipe', …) }}` in a persona field would run there. Tagged, a value is data Ansible never
 * templates. The one place lab text is encoded for Ansible and Jinja.
 */
export function inventoryYaml(value: unknown): string {
  const Y = yamlLib();
  // YAML 1.1, as Ansible's PyYAML reads it: a key such as `on` or `no` is quoted, not a boolean.
  const doc = new Y.Document(value, { version: '1.1', sortMapEntries: true });
  Y.visit(doc, {
    Scalar(key, node) {
      if (key !== 'key' && typeof node.value === 'string') node.tag = '!unsafe';
    },
  });
  return doc.toString({ lineWidth: 0, nullStr: 'null' });
}
