import { z } from 'zod';
import { SECRET_REF_RE } from '../secrets.js';
import { isIpv4, parseIpv4Cidr } from './net.js';
import { isCalendarExpression } from './systemd.js';

/*
 * The lab model: what operators write in lab.yaml, images/*.yaml and personas/*.yaml.
 * These zod schemas are the single source of the TypeScript types and of the JSON Schemas that
 * editors use (`ahl schema`). Every object is strict: an unknown key is an error, not a silent no-op.
 */

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a DNS label: lowercase letters, digits and dashes, not starting or ending with a dash');

/** Names of nodes, storages and bridges as Proxmox allows them. */
const pveId = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'must start with a letter and hold only letters, digits, ".", "_" and "-"');

/*
 * Lab text is data: a pull request writes it, and it lands in Terraform, Ansible, SSH options,
 * systemd units and shell. Free text may not hold control characters (a newline adds a line to a
 * unit file or an option list); names that become options, hosts or paths have a strict form.
 */
const CONTROL = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/;
const NUL = /\u0000/;
/** One line of free text: a description, a repository URL. */
const line = z.string().refine((s) => !CONTROL.test(s), 'must be one line of text without control characters');
/** Several lines of text, as a file's content: anything but NUL. */
const text = z.string().refine((s) => !NUL.test(s), 'must not hold NUL characters');
/** A path on this machine that SSH is given as an option value: no whitespace, quotes, `$` or control characters. */
const optionPath = z.string().regex(/^[^\s"'`$\\\u0000-\u001f\u007f]+$/, 'must be a path without whitespace, quotes, "$", "\\" or control characters');
/** A host name or IPv4 address that becomes an SSH destination: never an option (no leading dash). */
const hostName = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, 'must be a host name or IPv4 address (letters, digits, "." and "-", not starting with "-")');

const secretRef = z
  .string()
  .refine((s) => !CONTROL.test(s), 'must not hold control characters')
  .regex(SECRET_REF_RE, 'must be a secret reference (env:NAME, file:PATH or sops:PATH#KEY); never write a secret itself into the lab files')
  .meta({ description: 'A secret reference: env:NAME, file:PATH or sops:PATH#KEY' });

/** A QEMU CPU model as Proxmox names it (host, x86-64-v2-AES, custom-NAME). */
const cpuType = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]*$/, 'must be a CPU type like host or x86-64-v2-AES');

const ipv4 = z.string().refine(isIpv4, 'must be an IPv4 address like 192.168.1.10');
const ipv4Cidr = z
  .string()
  .refine((s) => parseIpv4Cidr(s) !== undefined, 'must be an IPv4 address with a prefix length, like 192.168.1.31/24');

const absPath = z
  .string()
  .regex(/^\/(?!.*\/\.\.?(\/|$))/, 'must be an absolute path without . or .. segments')
  .refine((s) => !CONTROL.test(s), 'must be a path without control characters');
const mac = z
  .string()
  .regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/, 'must be a MAC address like BC:24:11:0A:00:31')
  .refine((s) => (parseInt(s.slice(0, 2), 16) & 1) === 0, 'must be a unicast MAC address (the first octet must be even)');
const httpUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http(s) URL')
  .refine((s) => !CONTROL.test(s), 'must be a URL without control characters');
const sshPublicKey = z
  .string()
  .regex(/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( [^\u0000-\u001f\u007f\u0085\u2028\u2029]*)?$/, 'must be an OpenSSH public key line (ssh-ed25519 AAAA… comment) on one line');
const tag = z.string().regex(/^[a-z0-9][a-z0-9_.+-]*$/, 'must be a Proxmox tag: lowercase letters, digits, "-", "_", ".", "+"');
const mode = z.string().regex(/^0?[0-7]{3,4}$/, 'must be an octal mode as a string, like "0644"');
const posixName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a POSIX name: lowercase letters, digits, "_" and "-"');
const duration = z.string().regex(/^\d+(m|h|d)$/, 'must be a duration like 30m, 26h or 7d');

export const TEMPLATE_CHANNELS = ['stable', 'canary'] as const;
const templateRef = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*@[a-z0-9][a-z0-9._-]*$/, 'must be IMAGE@CHANNEL, like ubuntu-noble@stable')
  .meta({ description: 'Template reference IMAGE@CHANNEL (channels: stable, canary)' });

// ---------------------------------------------------------------- lab.yaml

const storageRoles = z.strictObject({
  vm: pveId.optional().meta({ description: 'Storage for VM disks (e.g. local-lvm)' }),
  iso: pveId.optional().meta({ description: 'Storage for ISO images and cloud-init seeds (e.g. local)' }),
  import: pveId.optional().meta({ description: 'Storage with the import content type for cloud images (defaults to iso)' }),
  snippets: pveId.optional().meta({ description: 'Storage with the snippets content type' }),
  backup: pveId.optional().meta({ description: 'Storage with the backup content type (vzdump captures)' }),
});

/** How ahl reaches a node's shell, for what the API cannot do (reading a disk to export it). */
const nodeShell = z
  .string()
  .regex(/^(local|([a-z_][a-z0-9_-]*@)?[A-Za-z0-9.-]+(:\d+)?)$/, 'must be [USER@]HOST[:PORT], or local when this machine is the node')
  .meta({ description: 'SSH to the node as [USER@]HOST[:PORT] (default root@ the endpoint\'s host), or local when ahl runs on the node itself' });

/** How this machine reaches the hosts: usually lab.local.yaml's (the local lab writes both). */
const privateKey = optionPath.optional().meta({ description: 'Private key file (relative to the lab root, or ~/…)' });

const machineSsh = {
  knownHostsFile: optionPath.optional().meta({ description: 'known_hosts file for the hosts (relative to the lab root, or ~/…); default SSH\'s own' }),
  netns: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'must be a network namespace name')
    .optional()
    .meta({ description: 'Reach the hosts from inside this network namespace (ip netns exec), as the local lab\'s guests are' }),
};

const s3Bucket = {
  bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name: 3-63 lowercase letters, digits, "." and "-"'),
  region: z.string().regex(/^[a-z0-9-]+$/, 'must be a region name: lowercase letters, digits and "-"').default('us-east-1'),
  endpoint: httpUrl.optional().meta({ description: 'An S3-compatible endpoint (MinIO, Garage, Ceph RGW, B2…); default AWS' }),
  accessKeyId: secretRef,
  secretAccessKey: secretRef,
  pathStyle: z.boolean().default(false).meta({ description: 'Path-style URLs (most self-hosted S3 servers need them)' }),
};

export const LabSchema = z
  .strictObject({
    name: dnsLabel.meta({ description: 'The lab name, used as a prefix and in tags' }),
    description: line.optional(),
    proxmox: z.strictObject({
      endpoint: httpUrl.meta({ description: 'Proxmox VE API endpoint, e.g. https://pve1.lab.example:8006' }),
      tokenId: z
        .string()
        .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|[^@\s!]+@[^@\s!]+![A-Za-z][A-Za-z0-9._-]*)$/, 'must be an API token id USER@REALM!NAME (or env:NAME)')
        .meta({ description: 'API token id, USER@REALM!NAME, or env:NAME' }),
      tokenSecret: secretRef,
      rootPassword: secretRef
        .optional()
        .meta({
          description:
            'The root@pam password, used only for what Proxmox lets root alone do (passthrough disks by device path); API tokens, even root@pam!x, cannot',
        }),
      tls: z
        .strictObject({
          verify: z.boolean().default(true).meta({ description: 'Verify the server certificate' }),
          fingerprint: z
            .string()
            .regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'must be a SHA-256 fingerprint as 32 colon-separated hex pairs')
            .optional()
            .meta({ description: 'Pinned SHA-256 fingerprint of the server certificate' }),
          ca: optionPath.optional().meta({ description: 'CA bundle file (relative to the lab root)' }),
        })
        .prefault({}),
    }),
    nodes: z
      .record(
        pveId,
        z
          .strictObject({
            storage: storageRoles.optional(),
            bridge: pveId.optional(),
            ssh: nodeShell.optional(),
          })
          .nullable()
          .transform((v) => v ?? {}),
      )
      .refine((n) => Object.keys(n).length > 0, 'must name at least one Proxmox node')
      .meta({ description: 'Proxmox nodes the lab uses, with per-node storage and bridge overrides' }),
    defaults: z
      .strictObject({
        storage: storageRoles.prefault({}),
        bridge: pveId.default('vmbr0'),
        cpuType: cpuType.default('x86-64-v2-AES'),
      })
      .prefault({}),
    cloudInit: z.strictObject({
      user: posixName.default('lab').meta({ description: 'The user cloud-init creates on every VM' }),
      sshKeys: z.array(sshPublicKey).min(1, 'must hold at least one SSH public key'),
    }),
    ssh: z
      .strictObject({
        user: posixName.optional().meta({ description: 'SSH user for L3/L4 (defaults to cloudInit.user)' }),
        privateKey,
        jumpHost: z
          .string()
          .regex(/^([a-z_][a-z0-9_-]*@)?[A-Za-z0-9.-]+(:\d+)?$/, 'must be [USER@]HOST[:PORT]')
          .optional(),
        hostKeyPolicy: z
          .enum(['strict', 'accept-new'])
          .default('accept-new')
          .meta({ description: 'accept-new trusts a host key on first contact and refuses a changed one; strict needs it in known_hosts' }),
        ...machineSsh,
      })
      .prefault({}),
    runway: z
      .strictObject({
        minFreeGibIso: z.number().min(0).default(4).meta({ description: 'Least free GiB on the ISO storage' }),
        minFreePctVm: z.number().min(0).max(100).default(10).meta({ description: 'Least free percent on the VM storage' }),
      })
      .prefault({}),
    workloads: z
      .strictObject({
        root: absPath.default('/opt/stacks').meta({ description: 'Where stacks are deployed on hosts' }),
        dataRoots: z
          .array(absPath)
          .min(1)
          .default(['/srv', '/opt', '/var/lib'])
          .meta({ description: 'Data directories must lie under one of these' }),
      })
      .prefault({}),
    backup: z
      .strictObject({
        target: z.discriminatedUnion('kind', [
          z.strictObject({
            kind: z.literal('rsync'),
            host: hostName,
            user: posixName.optional(),
            port: z.number().int().min(1).max(65535).default(22),
            path: absPath,
          }),
          z.strictObject({
            kind: z.literal('restic'),
            repository: line.pipe(z.string().min(1)),
            password: secretRef,
          }),
        ]),
      })
      .optional(),
    state: z
      .discriminatedUnion('backend', [
        z.strictObject({
          backend: z.literal('local'),
          path: line.default('.ahl/state').meta({ description: 'State directory relative to the lab root' }),
        }),
        z.strictObject({
          backend: z.literal('s3'),
          prefix: z.string().regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'must be an object key prefix: letters, digits, ".", "_", "-" and "/"').default('ahl'),
          ...s3Bucket,
        }),
      ])
      .prefault({ backend: 'local' })
      .meta({ description: 'Where Terraform state and ahl records are kept' }),
    localPaths: z
      .array(z.string().regex(/^(~|~\/.+|\/.+)$/, 'must be an absolute path or ~/…').refine((s) => !CONTROL.test(s), 'must be a path without control characters'))
      .default([])
      .meta({
        description:
          'Folders outside the lab repository that paths in the lab may read from (a secrets folder such as ~/.config/ahl); everything else a lab file names must be inside the repository',
      }),
    captureStore: z
      .strictObject({
        prefix: z.string().regex(/^[^/].*[^/]$|^[^/]$/, 'must not start or end with /').default('ahl/captures'),
        ...s3Bucket,
      })
      .optional()
      .meta({ description: 'S3-compatible object storage for appliance captures (boot disks as qcow2, with a manifest of size and digest)' }),
  })
  .meta({ title: 'ahl lab', description: 'The site: Proxmox endpoint, nodes, storage, network and defaults' });

// ---------------------------------------------------------------- images/NAME.yaml

export const ImageSchema = z
  .strictObject({
    description: line.optional(),
    kind: z.enum(['cloud', 'appliance']).default('cloud').meta({ description: 'cloud: a cloud image booted with cloud-init; appliance: a captured boot disk (HAOS, TrueNAS)' }),
    os: z.strictObject({
      family: z.enum(['ubuntu', 'debian', 'haos', 'truenas', 'other']),
      release: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a release name like bookworm or 24.04'),
    }),
    source: z
      .strictObject({
        url: httpUrl.optional().meta({ description: 'Where the cloud image is downloaded from' }),
        checksum: z
          .string()
          .regex(/^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/, 'must be sha256:<64 hex> or sha512:<128 hex>')
          .optional()
          .meta({ description: 'Pinned digest of the image' }),
        checksumUrl: httpUrl.optional().meta({ description: 'Upstream SHA256SUMS file naming the image' }),
        capture: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a capture name: lowercase letters, digits, ".", "_" and "-"').optional().meta({ description: 'Appliance images: the capture this template is restored from' }),
      })
      .superRefine((s, ctx) => {
        if (s.capture !== undefined) {
          for (const k of ['url', 'checksum', 'checksumUrl'] as const)
            if (s[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'cannot be combined with capture' });
          return;
        }
        if (s.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required (or capture, for an appliance)' });
        else if ((s.checksum === undefined) === (s.checksumUrl === undefined))
          ctx.addIssue({ code: 'custom', path: ['checksum'], message: 'give exactly one of checksum or checksumUrl' });
      }),
    template: z
      .strictObject({
        node: pveId.optional().meta({ description: 'Node the template lives on (defaults to the first node)' }),
        storage: pveId.optional(),
        vmid: z.number().int().min(100).max(999999999).optional().meta({ description: 'First vmid of this image\'s templates' }),
        machine: z.enum(['q35', 'pc']).default('q35'),
        bios: z.enum(['seabios', 'ovmf']).default('seabios'),
        scsihw: z.enum(['virtio-scsi-pci', 'virtio-scsi-single', 'lsi', 'megasas', 'pvscsi']).default('virtio-scsi-pci'),
        cores: z.number().int().min(1).max(128).default(2),
        memory: z.number().int().min(64).default(2048).meta({ description: 'MiB' }),
        serialConsole: z.boolean().default(true),
        agent: z.boolean().default(true),
      })
      .prefault({}),
    tags: z.array(tag).default([]),
  })
  .meta({ title: 'ahl image', description: 'An L1 image: the source of a versioned VM template' });

// ---------------------------------------------------------------- personas/NAME.yaml

/** A host's resources: each one given replaces the persona's. */
const resources = z.strictObject({
  cores: z.number().int().min(1).max(512).optional(),
  sockets: z.number().int().min(1).max(4).optional(),
  cpuType: cpuType.optional(),
  memory: z.number().int().min(64).optional().meta({ description: 'MiB' }),
  disk: z.number().int().min(1).optional().meta({ description: 'GiB' }),
});

/** A persona's resources, with the defaults its hosts get (cpuType: the lab's defaults.cpuType). */
const personaResources = z.strictObject({
  cores: z.number().int().min(1).max(512).default(2),
  sockets: z.number().int().min(1).max(4).default(1),
  cpuType: cpuType.optional().meta({ description: 'default: the lab\'s defaults.cpuType' }),
  memory: z.number().int().min(64).default(2048).meta({ description: 'MiB' }),
  disk: z.number().int().min(1).default(32).meta({ description: 'GiB, the boot disk' }),
});

const user = z.strictObject({
  name: posixName,
  groups: z.array(posixName).default([]),
  shell: absPath.default('/bin/bash'),
  sshKeys: z.array(sshPublicKey).default([]),
  sudo: z.enum(['none', 'password', 'nopasswd']).default('none'),
});

// ---------------------------------------------------------------- system: the lab's own roles, kernel, firewall, disks

/**
 * Tags and role names ahl's bundled L3 content uses, and Ansible's special tags: a role or task file
 * of the lab may not take one as its tag (`ahl converge system --tags NAME` must mean one thing).
 * @ahl/l3-system's tests check that every tag and role of its bundled playbook is listed here.
 */
export const RESERVED_SYSTEM_TAGS = [
  'base', 'sysctl', 'swap', 'mounts', 'nics', 'container_engine', 'users', 'sshd', 'firewall', 'files', 'unattended_upgrades', 'monitoring', 'node_exporter', 'services',
  'all', 'always', 'never', 'tagged', 'untagged',
] as const;

/**
 * Names a role's variable may not have: they become host variables (data, never templated), where
 * ahl's own (`ahl_…`), Ansible's connection and magic variables and its play keywords live.
 */
const RESERVED_VAR_NAMES = new Set([
  'action', 'always', 'any_errors_fatal', 'args', 'async', 'async_val', 'become', 'become_exe', 'become_flags', 'become_method', 'become_user',
  'block', 'changed_when', 'check_mode', 'collections', 'connection', 'cycler', 'debugger', 'delay', 'delegate_facts', 'delegate_to', 'dict',
  'diff', 'environment', 'fact_path', 'failed_when', 'force_handlers', 'gather_facts', 'gather_timeout', 'handlers', 'hosts', 'ignore_errors',
  'ignore_unreachable', 'joiner', 'lipsum', 'local_action', 'lookup', 'loop', 'loop_control', 'loop_with', 'max_fail_percentage',
  'module_defaults', 'name', 'namespace', 'no_log', 'notify', 'now', 'order', 'poll', 'port', 'post_tasks', 'pre_tasks', 'q', 'query', 'range',
  'register', 'remote_user', 'rescue', 'retries', 'roles', 'run_once', 'serial', 'strategy', 'tags', 'tasks', 'throttle', 'timeout', 'undef',
  'until', 'vars', 'vars_files', 'vars_prompt', 'when', 'with_',
  'group_names', 'groups', 'hostvars', 'inventory_dir', 'inventory_file', 'inventory_hostname', 'inventory_hostname_short', 'item', 'omit',
  'play_hosts', 'playbook_dir', 'role_name', 'role_names', 'role_path', 'true', 'false', 'none', 'True', 'False', 'None',
]);

/** A path inside the lab repository, relative to its root: `roles/motd`, `./motd`, `tasks/dotfiles.yml`. */
const REPO_PATH_RE = /^(\.\/)?(?!\.\.?(\/|$))[A-Za-z0-9_.@+-]+(\/(?!\.\.?(\/|$))[A-Za-z0-9_.@+-]+)*\/?$/;
/** A role from system.requirements, by the name it is installed under: `geerlingguy.swap`, `motd`. */
const GALAXY_ROLE_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)?$/;
const STEP_TAG_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const VAR_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const repoPath = z
  .string()
  .regex(REPO_PATH_RE, 'must be a path inside the lab repository, relative to its root, like roles/motd (letters, digits, "_", ".", "@", "+" and "-"; no . or .. segments)');

/** One role or task file of the lab, run after ahl's bundled roles (system.roles). */
const systemStep = z
  .strictObject({
    role: z
      .string()
      .refine(
        (s) => (s.includes('/') ? REPO_PATH_RE.test(s) : GALAXY_ROLE_RE.test(s)),
        'must be a role folder in the lab repository (a path with "/", like roles/motd) or the name of a role system.requirements installs (like geerlingguy.swap)',
      )
      .optional()
      .meta({ description: 'A role folder in the lab repository (roles/motd), or the name of a role system.requirements installs' }),
    tasks: repoPath
      .refine((s) => /\.ya?ml$/.test(s), 'must be a YAML task file (.yml or .yaml)')
      .optional()
      .meta({ description: 'A task file in the lab repository, e.g. tasks/dotfiles.yml' }),
    tag: z
      .string()
      .regex(STEP_TAG_RE, 'must be a tag: letters, digits, "_", "." and "-", starting with a letter or digit')
      .optional()
      .meta({ description: 'Its tag for `ahl converge system --tags` (default: the role\'s name, or the task file\'s name without .yml)' }),
    vars: z
      .record(z.string(), z.json())
      .default({})
      .meta({ description: 'Its variables: host variables of the hosts it runs on, passed as data (never templated)' }),
  })
  .superRefine((s, ctx) => {
    if ((s.role === undefined) === (s.tasks === undefined)) ctx.addIssue({ code: 'custom', path: ['role'], message: 'give exactly one of role or tasks' });
  });

export type SystemStepSpec = z.output<typeof systemStep>;

/**
 * The tag of one of the lab's roles or task files: `tag` as written, else the role's name (the last
 * segment of its folder, or its Galaxy name), else the task file's name without `.yml`/`.yaml`.
 */
export function systemStepTag(step: Pick<SystemStepSpec, 'role' | 'tasks' | 'tag'>): string {
  if (step.tag !== undefined) return step.tag;
  const path = (step.role ?? step.tasks ?? '').replace(/\/+$/, '');
  const last = path.slice(path.lastIndexOf('/') + 1);
  return step.tasks !== undefined ? last.replace(/\.ya?ml$/, '') : last;
}

/** A lab role named by a Galaxy-style name (installed by system.requirements), not a folder. */
export function isRequirementRole(role: string): boolean {
  return !role.includes('/');
}

/** Where a string in a role's vars cannot go: a NUL, or a key Jinja would read as a template. */
function checkVarValue(v: unknown, path: (string | number)[], ctx: z.core.$RefinementCtx): void {
  if (typeof v === 'string') {
    if (NUL.test(v)) ctx.addIssue({ code: 'custom', path, message: 'must not hold NUL characters' });
  } else if (Array.isArray(v)) v.forEach((x, i) => checkVarValue(x, [...path, i], ctx));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      if (CONTROL.test(k) || /[{}]/.test(k)) ctx.addIssue({ code: 'custom', path: [...path, k], message: 'must be a key without control characters, "{" or "}"' });
      checkVarValue(x, [...path, k], ctx);
    }
}

/** A kernel parameter as sysctl names it: net.ipv4.ip_forward, net/ipv4/conf/eth0.1/rp_filter. */
const sysctlKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]*([./][A-Za-z0-9_-]+)+$/, 'must be a sysctl key like net.ipv4.ip_forward or vm.swappiness');
/** Its value: a whole number, or words of letters, digits and `._:,+/-` separated by single spaces ("4096 87380 6291456"). */
const sysctlValue = z
  .union([z.number(), z.string()])
  .superRefine((v, ctx) => {
    if (typeof v === 'number' ? !Number.isSafeInteger(v) : !/^[A-Za-z0-9_.:,+/-]+( [A-Za-z0-9_.:,+/-]+)*$/.test(v))
      ctx.addIssue({ code: 'custom', message: 'must be a whole number or words of letters, digits and "._:,+/-" separated by single spaces, like "4096 87380 6291456"' });
  });

/** A port or a range of ports: 8080, "8000-8100". */
const portSpec = z
  .union([z.number(), z.string()])
  .superRefine((v, ctx) => {
    const ok = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;
    const m = typeof v === 'string' ? /^(\d{1,5})-(\d{1,5})$/.exec(v) : null;
    if (typeof v === 'number' ? !ok(v) : !m || !ok(Number(m[1])) || !ok(Number(m[2])) || Number(m[1]) >= Number(m[2]))
      ctx.addIssue({ code: 'custom', message: 'must be a port from 1 to 65535, or a range "FIRST-LAST" of them' });
  });

const firewallRule = z.strictObject({
  port: portSpec.meta({ description: 'A port (8080) or a range ("8000-8100")' }),
  proto: z.enum(['tcp', 'udp']).default('tcp'),
  from: z
    .string()
    .refine((s) => isIpv4(s) || parseIpv4Cidr(s) !== undefined, 'must be an IPv4 address or network, like 192.168.1.0/24')
    .optional()
    .meta({ description: 'Only from this IPv4 address or network (default: from anywhere)' }),
});

/** Top-level folders of the system a disk may not be mounted on, and trees it may not be mounted in. */
const SYSTEM_DIRS = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var']);
const mountPath = z
  .string()
  .regex(/^(\/(?!\.\.?(\/|$))[A-Za-z0-9_.@+-]+)+$/, 'must be an absolute path of letters, digits, "_", ".", "@", "+" and "-", without . or .. segments')
  .refine((s) => !SYSTEM_DIRS.has(s) && !/^\/(proc|sys|dev|run|boot)\//.test(s), 'must not be a system folder (/, /etc, /usr, /var, …) nor lie under /proc, /sys, /dev, /run or /boot');

const mount = z.strictObject({
  label: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,35}$/, 'must be a filesystem label: letters, digits, "_", "." and "-" (no spaces)')
    .meta({ description: 'The filesystem label of the disk (e2label, xfs_admin -L, …), as /dev/disk/by-label shows it' }),
  path: mountPath.meta({ description: 'Where it is mounted, e.g. /srv/media' }),
  fs: z.enum(['ext4', 'ext3', 'ext2', 'xfs', 'btrfs', 'f2fs', 'vfat', 'exfat', 'ntfs3']),
  options: z
    .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:=+@/-]*$/, 'must be one mount option like noatime or uid=1000 (no commas, spaces or quotes)'))
    .min(1)
    .default(['defaults', 'nofail'])
    .meta({ description: 'Mount options (default defaults,nofail: a missing disk does not stop the boot)' }),
});

const system = z.strictObject({
  timezone: z.string().regex(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/, 'must be a tz database name like Europe/London').optional(),
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'must be a package name')).default([]),
  aptProxy: httpUrl.optional().meta({ description: 'HTTP proxy for apt, e.g. an apt-cacher-ng at http://192.168.1.5:3142' }),
  users: z.array(user).default([]),
  removeUndeclaredUsers: z.boolean().default(false).meta({ description: 'Remove login users that are no longer declared' }),
  sshd: z
    .strictObject({
      permitRootLogin: z.boolean().default(false),
      passwordAuthentication: z.boolean().default(false),
      allowUsers: z.array(posixName).optional(),
      port: z.number().int().min(1).max(65535).default(22),
    })
    .prefault({}),
  services: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9:_.@\\-]*$/, 'must be a systemd unit name like nginx or getty@tty1.service'),
        enabled: z.boolean().default(true),
        state: z.enum(['started', 'stopped']).default('started'),
      }),
    )
    .default([]),
  directories: z
    .array(z.strictObject({ path: absPath, owner: posixName.default('root'), group: posixName.default('root'), mode: mode.default('0755') }))
    .default([]),
  files: z
    .array(
      z
        .strictObject({
          path: absPath,
          content: text.optional(),
          source: z.string().refine((s) => !CONTROL.test(s), 'must be a path without control characters').optional().meta({ description: 'File in the lab repository, relative to its root' }),
          owner: posixName.default('root'),
          group: posixName.default('root'),
          mode: mode.default('0644'),
        })
        .superRefine((f, ctx) => {
          if ((f.content === undefined) === (f.source === undefined))
            ctx.addIssue({ code: 'custom', path: ['content'], message: 'give exactly one of content or source' });
        }),
    )
    .default([]),
  unattendedUpgrades: z.boolean().default(true),
  monitoring: z
    .strictObject({
      nodeExporter: z
        .strictObject({
          enabled: z.boolean().default(true),
          listen: z.string().regex(/^(\d{1,3}(\.\d{1,3}){3})?:\d{1,5}$/, 'must be [ADDRESS]:PORT, like :9100').default(':9100'),
        })
        .prefault({}),
    })
    .prefault({}),
  containerEngine: z
    .strictObject({
      kind: z.literal('docker'),
      source: z.enum(['distro', 'upstream']).default('distro').meta({ description: 'distro: the distribution\'s docker.io; upstream: Docker\'s own repository' }),
    })
    .optional(),
  sysctl: z
    .record(sysctlKey, sysctlValue)
    .default({})
    .meta({ description: 'Kernel parameters, written to /etc/sysctl.d/90-ahl.conf and applied, e.g. {net.ipv4.ip_forward: 1}' }),
  firewall: z
    .strictObject({
      enabled: z.boolean().default(true),
      allow: z.array(firewallRule).default([]).meta({ description: 'What may reach the host; everything else coming in is dropped' }),
      icmp: z.boolean().default(true).meta({ description: 'Answer ping (ICMPv6, which IPv6 needs, is always allowed)' }),
    })
    .optional()
    .meta({
      description:
        'A host firewall (nftables table inet ahl): input dropped unless established, loopback, SSH (always, so ahl cannot be locked out) or allowed here. Without it, or with enabled: false, ahl\'s table is removed',
    }),
  swap: z
    .strictObject({
      enabled: z.boolean().default(true),
      size: z
        .string()
        .regex(/^[1-9][0-9]{0,5}[MG]$/, 'must be a size like 512M or 2G')
        .optional()
        .meta({ description: 'Size of the swap file /swapfile' }),
    })
    .superRefine((s, ctx) => {
      if (s.enabled && s.size === undefined) ctx.addIssue({ code: 'custom', path: ['size'], message: 'is required when swap is enabled' });
    })
    .optional()
    .meta({ description: 'A swap file at /swapfile ({size: 1G}), or none ({enabled: false} turns it off and removes it); without it, swap is left as it is' }),
  mounts: z
    .array(mount)
    .default([])
    .meta({ description: 'Extra disks mounted by filesystem label, kept in /etc/fstab' }),
  roles: z
    .array(systemStep)
    .default([])
    .meta({ description: 'The lab\'s own roles and task files, run in order after ahl\'s bundled roles, each with its tag and vars' }),
  requirements: repoPath
    .optional()
    .meta({ description: 'A requirements.yml in the lab repository: roles and collections installed with ansible-galaxy before each run' }),
}).superRefine((s, ctx) => {
  const seen = new Map<string, number>();
  s.roles.forEach((step, i) => {
    // What the tag comes from has been checked on its own: a malformed one is reported there once.
    if ((step.role === undefined) === (step.tasks === undefined)) return;
    const at = step.tag !== undefined ? 'tag' : step.role !== undefined ? 'role' : 'tasks';
    if (at === 'tag' ? !STEP_TAG_RE.test(step.tag!) : at === 'role' ? !(step.role!.includes('/') ? REPO_PATH_RE : GALAXY_ROLE_RE).test(step.role!) : !REPO_PATH_RE.test(step.tasks!)) return;
    const tag = systemStepTag(step);
    if (!STEP_TAG_RE.test(tag)) ctx.addIssue({ code: 'custom', path: ['roles', i, at], message: `gives the tag "${tag}", which is not one: give tag (letters, digits, "_", "." and "-")` });
    else if ((RESERVED_SYSTEM_TAGS as readonly string[]).includes(tag))
      ctx.addIssue({ code: 'custom', path: ['roles', i, at], message: `gives the tag "${tag}", which ahl's own roles or Ansible use; give another tag` });
    else if (seen.has(tag)) ctx.addIssue({ code: 'custom', path: ['roles', i, at], message: `gives the tag "${tag}", as roles[${seen.get(tag)}] does; give another tag` });
    else seen.set(tag, i);
    if (step.role !== undefined && isRequirementRole(step.role) && s.requirements === undefined)
      ctx.addIssue({ code: 'custom', path: ['roles', i, 'role'], message: 'names a role by name, which system.requirements must install; give requirements, or a folder path like roles/NAME' });
  });
  // A role's vars are host variables: one name holds one value on a host.
  const vars = new Map<string, { i: number; json: string }>();
  s.roles.forEach((step, i) => {
    for (const [name, value] of Object.entries(step.vars)) {
      const path = ['roles', i, 'vars', name];
      if (!VAR_NAME_RE.test(name)) ctx.addIssue({ code: 'custom', path, message: 'must be a variable name: letters, digits and "_", not starting with a digit' });
      else if (/^(ahl|ansible)_/i.test(name) || RESERVED_VAR_NAMES.has(name))
        ctx.addIssue({ code: 'custom', path, message: 'is a name ahl or Ansible keeps for itself (ahl_…, ansible_…, play keywords, magic variables); choose another' });
      checkVarValue(value, path, ctx);
      const json = JSON.stringify(value);
      const before = vars.get(name);
      if (before && before.json !== json) ctx.addIssue({ code: 'custom', path, message: `differs from roles[${before.i}].vars.${name}: the lab's role variables are host variables, one value per name` });
      else if (!before) vars.set(name, { i, json });
    }
  });
  const labels = new Map<string, number>();
  const paths = new Map<string, number>();
  s.mounts.forEach((m, i) => {
    if (labels.has(m.label)) ctx.addIssue({ code: 'custom', path: ['mounts', i, 'label'], message: `is mounted by mounts[${labels.get(m.label)}] already` });
    else labels.set(m.label, i);
    if (paths.has(m.path)) ctx.addIssue({ code: 'custom', path: ['mounts', i, 'path'], message: `is where mounts[${paths.get(m.path)}] mounts already` });
    else paths.set(m.path, i);
  });
});

/** A value for a Compose `.env` line: single-quoted there, so it cannot hold a newline or a single quote. */
const envValue = z.string().regex(/^[^\n\r'\u0000]*$/, 'must not hold a newline, a single quote or NUL (a Compose .env line cannot carry them)');
const envValues = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), z.union([envValue, z.number(), z.boolean()]));

const workload = z.strictObject({
  stack: dnsLabel.meta({ description: 'A folder under stacks/ holding compose.yaml' }),
  env: envValues.default({}),
  secrets: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'), secretRef).default({}),
  data: z.array(z.strictObject({ path: absPath, backup: z.boolean().default(true) })).default([]),
  quiesce: z.boolean().optional().meta({ description: 'Stop the stack while its data is backed up' }),
});

const backupPolicy = z.strictObject({
  schedule: z
    .string()
    .refine(isCalendarExpression, 'must be a systemd calendar expression on one line, like daily, *-*-* 03:00 or Mon..Fri 02:30')
    .default('daily')
    .meta({ description: 'systemd OnCalendar expression' }),
  maxAge: duration.default('26h').meta({ description: 'A backup older than this is stale; rebuilds need a fresher one' }),
  quiesce: z.boolean().default(false),
  paths: z.array(absPath).default([]).meta({ description: 'Extra paths backed up besides workload data' }),
  keep: z.number().int().min(1).default(7),
});

const passthroughDisk = z.strictObject({
  slot: z
    .string()
    .regex(/^(scsi([0-9]|[12][0-9]|30)|sata[0-5]|virtio([0-9]|1[0-5]))$/, 'must be a disk slot: scsi0-scsi30, sata0-sata5 or virtio0-virtio15')
    .meta({ description: 'The VM disk slot, e.g. scsi1' }),
  device: z
    .string()
    .regex(/^\/dev\/disk\/by-id\/[^/\s,=]+$/, 'must be a /dev/disk/by-id/… path: names like /dev/sdb change between boots')
    .meta({ description: 'The whole disk on the node, by its stable id' }),
  options: z
    .strictObject({
      backup: z.boolean().default(false).meta({ description: 'Include the disk in vzdump backups and captures (default false: a data disk is not part of the appliance)' }),
      replicate: z.boolean().optional(),
      serial: z.string().regex(/^[A-Za-z0-9_.-]{1,20}$/, 'must be 1-20 letters, digits, ".", "_" or "-"').optional().meta({ description: 'The serial the guest sees' }),
      ssd: z.boolean().optional(),
      discard: z.boolean().optional(),
      iothread: z.boolean().optional(),
      readonly: z.boolean().optional(),
      cache: z.enum(['none', 'writethrough', 'writeback', 'directsync', 'unsafe']).optional(),
      aio: z.enum(['native', 'threads', 'io_uring']).optional(),
    })
    .prefault({}),
});

/*
 * Extra disks and NICs of a VM. A disk is found inside the guest by its serial (ahl-SLOT, e.g.
 * /dev/disk/by-id/virtio-ahl-scsi1), so L3 formats a blank one and mounts it by label; a NIC is
 * addressed by cloud-init (ipconfigN, as Proxmox does) and checked by L3 by its MAC.
 */
const extraDisk = z.strictObject({
  slot: z
    .string()
    .regex(/^(scsi([1-9]|[12][0-9]|30)|sata[1-5]|virtio([1-9]|1[0-5]))$/, 'must be a disk slot other than the boot disk\'s: scsi1-scsi30, sata1-sata5 or virtio1-virtio15')
    .meta({ description: 'The VM disk slot, e.g. scsi1' }),
  size: z.number().int().min(1).max(65536).meta({ description: 'GiB; a larger size grows the disk in place (Proxmox never shrinks one)' }),
  datastore: pveId.optional().meta({ description: 'Storage for the disk (default: the boot disk\'s)' }),
  backup: z.boolean().default(true).meta({ description: 'Include the disk in vzdump backups (default true)' }),
  mount: z
    .strictObject({
      path: mountPath.meta({ description: 'Where it is mounted, e.g. /srv/data' }),
      label: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,11}$/, 'must be a filesystem label of at most 12 letters, digits, "_", "." and "-"')
        .optional()
        .meta({ description: 'The filesystem label L3 gives a blank disk and mounts it by (default: the slot, e.g. scsi1)' }),
      fs: z.enum(['ext4', 'xfs']).default('ext4'),
      options: z
        .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:=+@/-]*$/, 'must be one mount option like noatime or uid=1000 (no commas, spaces or quotes)'))
        .min(1)
        .default(['defaults', 'nofail']),
    })
    .optional()
    .meta({ description: 'L3 makes a filesystem on the disk when it has none (never over one), grows it when the disk grew, and mounts it by label' }),
});

const extraNic = z.strictObject({
  bridge: pveId.optional().meta({ description: 'default: the lab\'s bridge' }),
  vlan: z.number().int().min(1).max(4094).optional(),
  model: z.enum(['virtio', 'e1000', 'rtl8139', 'vmxnet3']).default('virtio'),
  firewall: z.boolean().default(false),
  mac: mac.optional().meta({ description: 'A fixed MAC (per host); default: one Proxmox picks' }),
  ip: z
    .union([z.literal('dhcp'), ipv4Cidr])
    .default('dhcp')
    .meta({ description: 'A static IPv4 address with prefix (per host), or dhcp. No gateway: the default route stays on the first NIC' }),
});

const host = z.strictObject({
  description: line.optional(),
  runtime: z
    .enum(['vm', 'baremetal'])
    .default('vm')
    .meta({ description: 'baremetal: a physical machine: no L2 VM, a NoCloud seed ISO from `ahl image seed`, then L3/L4 as any host' }),
  node: pveId.optional().meta({ description: 'The Proxmox node the VM runs on (VMs only)' }),
  ip: ipv4Cidr.optional().meta({ description: 'Static IPv4 address with prefix, e.g. 192.168.1.31/24' }),
  gateway: ipv4.optional(),
  dns: z.array(ipv4).optional(),
  searchDomain: z.string().regex(/^[a-z0-9.-]+$/, 'must be a domain name').optional(),
  vmid: z.number().int().min(100).max(999999999).optional(),
  mac: mac.optional(),
  resources: resources.optional(),
  passthrough: z
    .array(passthroughDisk)
    .default([])
    .meta({ description: 'Physical disks of the node handed whole to this VM (a NAS\'s pool disks); converged by `ahl passthrough`' }),
  disks: z.array(extraDisk).optional().meta({ description: 'Extra disks of this VM; replaces the persona\'s disks' }),
  nics: z.array(extraNic).optional().meta({ description: 'Extra NICs of this VM (net1, net2, …), with their addresses; replaces the persona\'s nics' }),
  tags: z.array(tag).default([]),
  groups: z.array(dnsLabel).default([]).meta({ description: 'Extra inventory groups' }),
  workloads: z
    .record(dnsLabel, z.strictObject({ env: envValues.default({}) }))
    .default({})
    .meta({ description: 'Per-host values for the persona\'s stacks, by stack name: env laid over the workload\'s env' }),
});

export const PersonaSchema = z
  .strictObject({
    description: line.optional(),
    kind: z.enum(['vm', 'appliance']).default('vm').meta({ description: 'appliance: no cloud-init, no L3/L4 (HAOS, TrueNAS)' }),
    template: templateRef,
    resources: personaResources.prefault({}),
    network: z
      .strictObject({
        bridge: pveId.optional(),
        vlan: z.number().int().min(1).max(4094).optional(),
        model: z.enum(['virtio', 'e1000', 'rtl8139', 'vmxnet3']).default('virtio'),
        firewall: z.boolean().default(false),
      })
      .prefault({}),
    disk: z
      .strictObject({
        datastore: pveId.optional(),
        interface: z.enum(['scsi0', 'virtio0', 'sata0']).default('scsi0'),
        ssd: z.boolean().default(true),
        discard: z.boolean().default(true),
      })
      .prefault({}),
    disks: z.array(extraDisk).default([]).meta({ description: 'Extra disks of each VM (scsi1, …), beside the boot disk' }),
    nics: z
      .array(extraNic)
      .default([])
      .meta({ description: 'Extra NICs of each VM (net1, net2, …), beside the first; a static ip or a mac belongs on a host (hosts.NAME.nics)' }),
    dns: z.array(ipv4).optional().meta({ description: 'Default DNS servers for the hosts' }),
    searchDomain: z.string().regex(/^[a-z0-9.-]+$/, 'must be a domain name').optional(),
    onBoot: z.boolean().default(true),
    tags: z.array(tag).default([]),
    system: system.optional(),
    workloads: z.array(workload).default([]),
    backup: backupPolicy.optional(),
    hosts: z
      .record(dnsLabel, host)
      .default({})
      .meta({ description: 'The machines of this persona, by hostname' }),
  })
  .meta({ title: 'ahl persona', description: 'A role of machine and its hosts' });

export type LabConfig = z.output<typeof LabSchema>;
export type LabConfigInput = z.input<typeof LabSchema>;
export type ImageSpec = z.output<typeof ImageSchema>;
export type PersonaSpec = z.output<typeof PersonaSchema>;
export type HostSpec = PersonaSpec['hosts'][string];
export type SystemSpec = NonNullable<PersonaSpec['system']>;
export type FirewallSpec = NonNullable<SystemSpec['firewall']>;
export type MountSpec = SystemSpec['mounts'][number];
export type WorkloadSpec = PersonaSpec['workloads'][number];
export type BackupPolicy = NonNullable<PersonaSpec['backup']>;
export type Resources = z.output<typeof resources>;
export type PassthroughDisk = z.output<typeof passthroughDisk>;
export type ExtraDisk = z.output<typeof extraDisk>;
export type ExtraNic = z.output<typeof extraNic>;

// ---------------------------------------------------------------- lab.local.yaml

/**
 * An overlay for this machine only (not committed): another endpoint, token and image sources, e.g.
 * the local lab `ahl lab up` writes. Applied over lab.yaml and images/*.yaml after both are checked.
 */
export const LabLocalSchema = z
  .strictObject({
    proxmox: z
      .strictObject({
        endpoint: httpUrl.optional(),
        tokenId: z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|[^@\s!]+@[^@\s!]+![A-Za-z][A-Za-z0-9._-]*)$/, 'must be an API token id USER@REALM!NAME (or env:NAME)').optional(),
        tokenSecret: secretRef.optional(),
        rootPassword: secretRef.optional(),
        tls: z
          .strictObject({
            verify: z.boolean().optional(),
            fingerprint: z.string().regex(/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/, 'must be a SHA-256 fingerprint as 32 colon-separated hex pairs').optional(),
            ca: optionPath.optional(),
          })
          .optional(),
      })
      .optional(),
    images: z
      .record(
        z.string(),
        z.strictObject({
          source: z.strictObject({ url: httpUrl, checksum: z.string().optional(), checksumUrl: httpUrl.optional() }),
        }),
      )
      .optional(),
    ssh: z.strictObject({ privateKey, ...machineSsh }).optional().meta({ description: 'How this machine reaches the hosts' }),
    extraSshKeys: z
      .array(sshPublicKey)
      .optional()
      .meta({ description: 'Public keys trusted here as well as the lab\'s: given to cloud-init\'s user and to every persona user that has keys (the local lab\'s own key, whose private half is ssh.privateKey)' }),
    system: z
      .strictObject({
        aptProxy: httpUrl.optional().meta({ description: 'The apt proxy every persona with a system section uses here, in place of its own' }),
        containerEngineSource: z
          .enum(['distro', 'upstream'])
          .optional()
          .meta({ description: 'Where every persona with a container engine installs it from here, in place of its own (distro: the distribution\'s docker.io, for a machine that cannot reach Docker\'s repository)' }),
      })
      .optional(),
    nodes: z
      .record(pveId, z.strictObject({ ssh: nodeShell.optional() }))
      .optional()
      .meta({ description: 'Per node: how this machine reaches its shell (local for the local lab)' }),
    records: z
      .string()
      .regex(/^[^/]/, 'must be a path relative to the lab root')
      .optional()
      .meta({ description: 'Keep template manifests, channels and captures here instead of under images/ (they describe this endpoint only)' }),
  })
  .meta({ title: 'ahl lab.local', description: 'Machine-local overrides of lab.yaml (endpoint, token, image sources)' });

export type LabLocal = z.output<typeof LabLocalSchema>;
