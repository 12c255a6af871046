import { knownHostsFile, labFile, shellQuote, sshUser, yamlLib, type Host, type Lab } from '@ahl/core';
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

/** The variables the bundled roles read, from the persona's `system` section and the host's facts. */
export function hostVars(lab: Lab, host: Host): Record<string, unknown> {
  const s = host.system;
  if (!s) throw new Error(`host ${host.name} has no system section`);
  return {
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
