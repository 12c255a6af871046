import { join, relative } from 'node:path';
import { diskSerial, stateDir, vmHosts, type Lab, type TemplateManifest, type VmHost } from '@ahl/core';
import { templateTag } from '@ahl/l1-image';

/*
 * The pure half of L2: the resolved lab and its template manifests in, one Terraform root module for
 * the whole lab out (JSON syntax). One module, not one per persona, because a lab is one state: a host
 * may move between personas without a `terraform state mv`, one lock guards every change, and one
 * `init` serves every plan. Scoping a plan to a persona or a host is `-target`.
 */

/** The provider this version of ahl is tested with. */
export const BPG_PROVIDER = { source: 'bpg/proxmox', version: '0.80.0' } as const;

/** Where the rendered module lives, under the lab root; ahl owns the folder and rewrites it. */
export const terraformDir = (lab: Lab) => join(lab.root, '.ahl', 'terraform');

/** The plan file `ahl apply` applies (and nothing else). */
export const PLAN_FILE = 'ahl.tfplan';

export const VM_RESOURCE = 'proxmox_virtual_environment_vm';

/** A Terraform resource name for a host: host names are DNS labels, which may start with a digit. */
export function resourceName(host: string): string {
  return /^[A-Za-z_]/.test(host) ? host : `h_${host}`;
}

/** The resource address of a host's VM. */
export const hostAddress = (host: string) => `${VM_RESOURCE}.${resourceName(host)}`;

export interface RenderedHost {
  readonly host: string;
  readonly address: string;
  /** The template version it clones. */
  readonly template: { readonly ref: string; readonly version: string; readonly vmid: number };
}

export interface UnresolvedHost {
  readonly host: string;
  /** The template reference that names no built version. */
  readonly template: string;
}

/** A VM that exists on the server for a host: where it is, and its tags (one names its template). */
export interface ExistingVm {
  readonly host: string;
  readonly node: string;
  readonly vmid: number;
  readonly tags?: readonly string[];
}

/**
 * A VM that exists on the server for a host but is not in Terraform's state (made by hand, or by an
 * earlier tool): the module imports it instead of planning a second VM with the same vmid.
 */
export type AdoptedVm = ExistingVm;

export interface RenderOptions {
  /** VMs to import into the state. */
  readonly adopt?: readonly AdoptedVm[];
  /**
   * The VMs that exist: each keeps the `tpl-…` tag it has (the template it was really cloned from,
   * which a moved channel does not change); a VM yet to be made gets its channel's template's tag.
   */
  readonly existing?: readonly ExistingVm[];
}

export interface RenderedModule {
  /** File name → content, deterministic. */
  readonly files: Readonly<Record<string, string>>;
  readonly hosts: readonly RenderedHost[];
  /** Hosts left out: their channel names no template yet (`ahl image build` first). */
  readonly unresolved: readonly UnresolvedHost[];
}

/**
 * Renders the lab's VMs as one root module. `templates` maps a template reference (`image@channel`)
 * to the manifest its channel points at. Bare-metal hosts have no L2 and are never rendered.
 */
export function renderTerraform(
  lab: Lab,
  templates: Readonly<Record<string, TemplateManifest | undefined>>,
  opts: RenderOptions = {},
): RenderedModule {
  const adopt = opts.adopt ?? [];
  const existing = new Map((opts.existing ?? []).map((e) => [e.host, e]));
  const hosts: RenderedHost[] = [];
  const unresolved: UnresolvedHost[] = [];
  const resources: Record<string, unknown> = {};
  for (const host of vmHosts(lab)) {
    const manifest = templates[host.template.ref];
    if (!manifest) {
      unresolved.push({ host: host.name, template: host.template.ref });
      continue;
    }
    const e = existing.get(host.name);
    const tag = e ? e.tags?.find((t) => t.startsWith('tpl-')) : templateTag(manifest);
    resources[resourceName(host.name)] = vmResource(lab, host, manifest, tag);
    hosts.push({ host: host.name, address: hostAddress(host.name), template: { ref: host.template.ref, version: manifest.version, vmid: manifest.vmid } });
  }
  const module = {
    '//': 'Rendered by ahl from the lab\'s intent; edit the personas, not this file. Endpoint and token come from PROXMOX_VE_ENDPOINT and PROXMOX_VE_API_TOKEN.',
    terraform: {
      required_version: '>= 1.6',
      required_providers: { proxmox: { source: BPG_PROVIDER.source, version: BPG_PROVIDER.version } },
      backend: backend(lab),
    },
    provider: { proxmox: provider(lab) },
    ...(hosts.length ? { resource: { [VM_RESOURCE]: resources } } : {}),
  };
  const imports = adopt.filter((a) => hosts.some((h) => h.host === a.host)).sort((a, b) => a.host.localeCompare(b.host));
  if (imports.length) Object.assign(module, { import: imports.map((a) => ({ to: hostAddress(a.host), id: `${a.node}/${a.vmid}` })) });
  return { files: { 'main.tf.json': `${JSON.stringify(terraformLiteral(module), null, 2)}\n` }, hosts, unresolved };
}

/**
 * Terraform's JSON syntax reads every string as a template: `${…}` is evaluated (`${file("…")}` reads
 * the operator's files) and `%{…}` is a directive. Lab text is data, so every string of the module
 * (values and keys alike) has its template openers escaped (`$${`, `%%{`), which Terraform reads back
 * as the literal text. The one place intent is encoded for Terraform; nothing in ahl's own module is
 * a template, so escaping everything costs nothing.
 */
export function terraformLiteral<T>(value: T): T {
  const esc = (s: string) => s.replace(/([$%])\{/g, '$1$1{');
  const walk = (v: unknown): unknown =>
    typeof v === 'string'
      ? esc(v)
      : Array.isArray(v)
        ? v.map(walk)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [esc(k), walk(x)]))
          : v;
  return walk(value) as T;
}

function provider(lab: Lab): Record<string, unknown> {
  const tls = lab.config.proxmox.tls;
  // bpg cannot pin a fingerprint: for a pinned server Terraform talks to ahl's relay, which checks the
  // pin on every connection, and verifies the relay's certificate (terraform.ts, tls-relay.ts).
  return { insecure: !tls.verify && tls.fingerprint === undefined };
}

function backend(lab: Lab): Record<string, unknown> {
  const state = lab.config.state;
  if (state.backend === 'local') {
    const dir = state.path === '.ahl/state' ? stateDir(lab.root) : join(lab.root, state.path);
    return { local: { path: relative(terraformDir(lab), join(dir, 'terraform.tfstate')) } };
  }
  // Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, set by the runner from the secret refs.
  return {
    s3: {
      bucket: state.bucket,
      key: `${state.prefix}/terraform.tfstate`,
      region: state.region,
      ...(state.endpoint ? { endpoints: { s3: state.endpoint } } : {}),
      use_path_style: state.pathStyle,
      use_lockfile: true,
      skip_credentials_validation: true,
      skip_region_validation: true,
      skip_requesting_account_id: true,
      skip_metadata_api_check: true,
      skip_s3_checksum: true,
    },
  };
}

function vmResource(lab: Lab, host: VmHost, manifest: TemplateManifest, templateTag: string | undefined): Record<string, unknown> {
  const r = host.resources;
  const image = lab.images[host.template.image];
  const t = image?.template;
  const cloudInit = host.kind !== 'appliance';
  return {
    node_name: host.node,
    name: host.name,
    ...(host.vmid !== undefined ? { vm_id: host.vmid } : {}),
    description: `${host.description ?? lab.personas[host.persona]?.description ?? host.persona} (managed by ahl: persona ${host.persona})`,
    // The template it was cloned from, as a tag: what `ahl status` reads for template lag and `ahl image prune` for use.
    tags: templateTag ? [...new Set([...host.tags, templateTag])].sort() : host.tags,
    on_boot: host.onBoot,
    started: true,
    stop_on_destroy: true,
    // A full clone: the VM outlives the template, which `ahl image prune` may remove.
    // Retried: parallel clones contend for the storage's lock, and Proxmox answers `got timeout`.
    clone: { node_name: manifest.node, vm_id: manifest.vmid, full: true, datastore_id: host.disk.datastore, retries: 3 },
    // The machine as its template has it: left out, the provider would put its own defaults over the clone's.
    ...(t ? { bios: t.bios, machine: t.machine, scsi_hardware: t.scsihw } : {}),
    operating_system: { type: 'l26' },
    ...(t?.serialConsole ? { serial_device: [{ device: 'socket' }], vga: { type: 'serial0' } } : {}),
    cpu: { cores: r.cores, sockets: r.sockets, type: r.cpuType },
    memory: { dedicated: r.memory },
    disk: [
      {
        datastore_id: host.disk.datastore,
        interface: host.disk.interface,
        size: r.disk,
        ssd: host.disk.ssd,
        discard: host.disk.discard ? 'on' : 'ignore',
      },
      // Extra disks carry a serial, so L3 finds each one inside the guest (/dev/disk/by-id/*ahl-SLOT).
      ...host.disks.map((d) => ({
        datastore_id: d.datastore,
        interface: d.slot,
        size: d.size,
        serial: diskSerial(d.slot),
        backup: d.backup,
        ...(d.slot.startsWith('virtio') ? {} : { ssd: host.disk.ssd }),
        discard: host.disk.discard ? 'on' : 'ignore',
      })),
    ],
    network_device: [
      networkDevice(host.network, host.mac),
      ...host.nics.map((n) => networkDevice(n, n.mac)),
    ],
    // The provider waits for the agent to report addresses, at every refresh too: a guest whose agent
    // is slow or missing must not hold a plan up for the provider's default 15 minutes.
    agent: { enabled: t?.agent ?? true, timeout: '30s' },
    ...(cloudInit ? { initialization: initialization(lab, host) } : {}),
    lifecycle: {
      // Moving a channel to a newer template must not replace every VM cloned from the old one:
      // the clone source is read once, at creation. `ahl rebuild HOST` recreates a VM from the
      // channel's current template on purpose, and `ahl drift` reports the lag meanwhile.
      ignore_changes: ['clone'],
    },
  };
}

/** One of the VM's network_device blocks: the first NIC or an extra one. */
function networkDevice(n: { readonly bridge: string; readonly model: string; readonly firewall: boolean; readonly vlan?: number | undefined }, mac: string | undefined): Record<string, unknown> {
  return {
    bridge: n.bridge,
    model: n.model,
    firewall: n.firewall,
    ...(n.vlan !== undefined ? { vlan_id: n.vlan } : {}),
    ...(mac !== undefined ? { mac_address: mac.toUpperCase() } : {}),
  };
}

function initialization(lab: Lab, host: VmHost): Record<string, unknown> {
  return {
    datastore_id: host.disk.datastore,
    user_account: { username: lab.config.cloudInit.user, keys: lab.config.cloudInit.sshKeys },
    // One per NIC, in order (ipconfig0, ipconfig1, …); only the first has the gateway.
    ip_config: [
      { ipv4: host.ip ? { address: host.ip.cidr, ...(host.gateway ? { gateway: host.gateway } : {}) } : { address: 'dhcp' } },
      ...host.nics.map((n) => ({ ipv4: { address: n.ip } })),
    ],
    ...(host.dns.length || host.searchDomain ? { dns: { ...(host.searchDomain ? { domain: host.searchDomain } : {}), ...(host.dns.length ? { servers: host.dns } : {}) } } : {}),
  };
}
