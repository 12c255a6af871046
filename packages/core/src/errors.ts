/**
 * The error catalogue. Every error ahl raises on purpose has a permanent code, says what happened,
 * why, what to do, and whether anything on any host was changed. Codes never change meaning once
 * released; new failures get new codes. The exit status follows from `kind` (EXIT_STATUS); only the
 * CLI exits. docs/errors.md is rendered from this file (`pnpm --filter @ahl/core errors:doc`).
 */

/** How the CLI classifies an error when it chooses an exit status. */
export type ErrorKind =
  /** The operator's intent or the checked world is wrong: fix the input (exit 1). */
  | 'invalid'
  /** The command line is wrong (exit 2). */
  | 'usage'
  /** ahl could not run: a tool, file or endpoint it needs is missing or unreachable (exit 2). */
  | 'environment'
  /** A bug in ahl (exit 2). */
  | 'internal';

/** The exit status the CLI ends with for an error of each kind (documented in docs/errors.md). */
export const EXIT_STATUS: Readonly<Record<ErrorKind, number>> = { invalid: 1, usage: 2, environment: 2, internal: 2 };

interface CatalogueEntry<A> {
  kind: ErrorKind;
  title: string;
  message: (args: A) => string;
  why?: (args: A) => string;
  hint: (args: A) => string;
}

function entry<A>(e: CatalogueEntry<A>): CatalogueEntry<A> {
  return e;
}

export const catalogue = {
  LAB_NOT_FOUND: entry<{ from: string }>({
    kind: 'environment',
    title: 'No lab found',
    message: (a) => `no lab.yaml in ${a.from} or any parent directory`,
    why: () => 'ahl finds the lab by walking up from the current directory to the first folder holding lab.yaml, like git finds its root',
    hint: () => 'run ahl inside your lab repository, or pass --dir PATH',
  }),
  LAB_DIR_INVALID: entry<{ dir: string }>({
    kind: 'usage',
    title: 'Not a lab directory',
    message: (a) => `${a.dir} has no lab.yaml`,
    hint: () => 'point --dir at the folder that holds lab.yaml, images/ and personas/',
  }),
  LAB_INVALID: entry<{ errors: number; warnings: number; files: number }>({
    kind: 'invalid',
    title: 'The lab is invalid',
    message: (a) =>
      `${a.errors} ${plural(a.errors, 'error')}${a.warnings ? `, ${a.warnings} ${plural(a.warnings, 'warning')}` : ''} in ${a.files} ${plural(a.files, 'file')}`,
    why: () => 'the files do not match the lab model; nothing was contacted or changed',
    hint: () => 'fix the lines listed above and run `ahl validate` again',
  }),
  FILE_UNREADABLE: entry<{ path: string; reason: string }>({
    kind: 'environment',
    title: 'A file could not be read',
    message: (a) => `cannot read ${a.path}: ${a.reason}`,
    hint: () => 'check that the file exists and is readable',
  }),
  FILE_UNWRITABLE: entry<{ path: string; reason: string }>({
    kind: 'environment',
    title: 'A file could not be written',
    message: (a) => `cannot write ${a.path}: ${a.reason}`,
    why: () => 'ahl writes its state under .ahl/ and its records (manifests, channels) beside the lab files, each replaced whole so a crash never leaves half of one; the previous content is still in place',
    hint: () => 'check that the folder is writable and the disk has room (`df -h`, `ls -ld`), then run the command again',
  }),
  SECRET_MISSING: entry<{ ref: string; field?: string }>({
    kind: 'invalid',
    title: 'A secret is missing',
    message: (a) => `secret ${a.ref}${a.field ? ` (for ${a.field})` : ''} is not set`,
    why: () => 'secret references are resolved only when a command needs them',
    hint: (a) =>
      a.ref.startsWith('env:')
        ? `export ${a.ref.slice(4)} (or run ahl under your secret manager, e.g. \`doppler run -- ahl …\`)`
        : a.ref.startsWith('sops:')
          ? sopsMissingHint(a.ref)
          : `create ${a.ref.slice(5)} with the secret as its only content (mode 0600)`,
  }),
  SECRET_REF_INVALID: entry<{ ref: string }>({
    kind: 'invalid',
    title: 'Not a secret reference',
    message: (a) => `"${a.ref}" is not a secret reference`,
    hint: () => 'write env:NAME, file:PATH or sops:PATH#KEY; never write a secret itself into the lab files',
  }),
  SOPS_UNAVAILABLE: entry<{ ref: string; field?: string }>({
    kind: 'environment',
    title: 'sops is not installed',
    message: (a) => `secret ${a.ref}${a.field ? ` (for ${a.field})` : ''} cannot be resolved: sops was not found`,
    why: () => 'sops: references are decrypted by the sops binary, looked up on PATH and then in ahl\'s cache ($AHL_CACHE_DIR/bin or ~/.cache/ahl/bin)',
    hint: () => 'install sops and age (`bash scripts/bootstrap` does, into ~/.cache/ahl/bin), or use an env: or file: reference instead',
  }),
  SOPS_FAILED: entry<{ ref: string; reason: string; field?: string }>({
    kind: 'environment',
    title: 'sops could not decrypt a secret file',
    message: (a) => `secret ${a.ref}${a.field ? ` (for ${a.field})` : ''} cannot be resolved: sops failed: ${a.reason}`,
    why: () => 'sops decrypts the file with a key it finds in the environment; without the right key, or when the file is not a valid SOPS file or was changed without sops (MAC mismatch), it refuses',
    hint: () =>
      'point SOPS_AGE_KEY_FILE at the age key the file was encrypted for (or set SOPS_AGE_KEY), and check the file with `sops decrypt PATH`',
  }),
  USAGE: entry<{ message: string; command?: string }>({
    kind: 'usage',
    title: 'Wrong command line',
    message: (a) => a.message,
    hint: (a) => `see \`ahl ${a.command ? `${a.command} ` : ''}--help\``,
  }),
  NEEDS_ROOT: entry<{ what: string; why: string }>({
    kind: 'environment',
    title: 'Root is needed',
    message: (a) => `${a.what} needs root`,
    why: (a) => a.why,
    hint: () => 'run it as root (sudo), on a machine where you may create network namespaces',
  }),
  LOCAL_LAB_FAILED: entry<{ cause: string; log: string }>({
    kind: 'environment',
    title: 'The local lab did not start',
    message: (a) => `the local lab did not start: ${a.cause}`,
    why: () => 'its daemon (pve-sim with the QEMU backend, the lab network and the guest image) stopped or did not get ready; the last lines of its log are above',
    hint: (a) => `read ${a.log}, fix what it names, then \`ahl lab down\` (it removes whatever was left) and \`ahl lab up\` again`,
  }),
  DEBIAN_MIRROR_MISSING: entry<{ suite: string; looked: string }>({
    kind: 'environment',
    title: 'No Debian mirror is configured',
    message: (a) => `no Debian mirror for ${a.suite} to build the local lab's guest image from`,
    why: (a) =>
      `ahl names no mirror of its own: it takes AHL_DEBIAN_MIRROR, else the first http:// Debian source of ${a.suite} (or of another Debian release) in this machine's apt configuration (${a.looked}); the image's guests fetch from it through the lab's apt proxy`,
    hint: () => 'set AHL_DEBIAN_MIRROR to the http:// URL of a Debian mirror (the folder that holds dists/ and pool/: your site\'s mirror or apt cache) and run again',
  }),
  UBUNTU_MIRROR_MISSING: entry<{ suite: string; looked: string }>({
    kind: 'environment',
    title: 'No Ubuntu mirror is configured',
    message: (a) => `no Ubuntu mirror for ${a.suite} to build the local lab's Ubuntu image from, and none is cached`,
    why: (a) =>
      `ahl names no mirror of its own: it takes AHL_UBUNTU_MIRROR, else the first http:// Ubuntu source of ${a.suite} (or of another Ubuntu release) in this machine's apt configuration (${a.looked}); the image is built once and cached, and its guests fetch from that mirror through the lab's apt proxy`,
    hint: () =>
      "set AHL_UBUNTU_MIRROR to the http:// URL of an Ubuntu archive mirror (the folder that holds dists/ and pool/) and run again; until then the local lab's Ubuntu templates get the Debian image",
  }),
  TOOL_FAILED: entry<{ tool: string; reason: string; hint: string }>({
    kind: 'environment',
    title: 'A tool ahl runs failed',
    message: (a) => `${a.tool} failed: ${a.reason}`,
    hint: (a) => a.hint,
  }),
  GIT_FAILED: entry<{ command: string; reason: string }>({
    kind: 'environment',
    title: 'Git could not answer',
    message: (a) => `\`${a.command}\` failed: ${a.reason}`,
    why: () => 'ahl reads the lab at a Git ref from the repository that holds it',
    hint: () => 'check that the lab is inside a Git repository and that the ref exists (`git log --oneline`)',
  }),
  LAB_LOCKED: entry<{ file: string; holder: string }>({
    kind: 'environment',
    title: 'The lab is busy',
    message: (a) => `${a.holder} is acting on this lab`,
    why: () => 'only one ahl run may change a lab at a time; read-only commands (status, validate, graph) never wait',
    hint: (a) => `wait for it to finish; if no ahl is running any more on that machine, remove ${a.file}`,
  }),
  NODE_SHELL_FAILED: entry<{ node: string; where: string; step: string; reason: string }>({
    kind: 'environment',
    title: 'A command on a Proxmox node failed',
    message: (a) => `on ${a.node} (${a.where}): \`${a.step}\` failed: ${a.reason}`,
    why: () => 'exporting a disk reads it on the node itself, which the Proxmox API cannot do',
    hint: (a) =>
      a.where === 'this machine'
        ? 'check the command\'s message; qemu-img (qemu-utils) must be installed'
        : `check that \`ssh ${a.where}\` works without a password (nodes.${a.node}.ssh in lab.yaml sets the target) and that qemu-img is on the node`,
  }),
  CAPTURE_STORE_MISSING: entry<Record<string, never>>({
    kind: 'invalid',
    title: 'No capture store',
    message: () => 'lab.yaml has no captureStore',
    why: () => 'captures go to S3-compatible object storage named in lab.yaml',
    hint: () => 'add captureStore: {bucket, prefix, endpoint, accessKeyId: env:…, secretAccessKey: env:…} to lab.yaml, or capture to the backup storage with --to storage',
  }),
  CAPTURE_STORE_FAILED: entry<{ operation: string; reason: string }>({
    kind: 'environment',
    title: 'The capture store failed',
    message: (a) => `${a.operation} failed: ${a.reason}`,
    why: () => 'the S3-compatible store named by lab.yaml captureStore refused or could not be reached',
    hint: () => 'check captureStore (endpoint, bucket, pathStyle) and the credentials its secret references hold; the bucket must exist',
  }),
  DISK_SHRINK: entry<{ disks: string }>({
    kind: 'invalid',
    title: 'A disk would shrink',
    message: (a) => `the plan makes ${a.disks} smaller; nothing was applied`,
    why: () => 'Proxmox grows a VM disk in place but never shrinks one: the apply would fail halfway, and cutting a disk short loses what lies past the new end',
    hint: () => 'put the size back to at least what the disk has now; to get a smaller disk, add a new one, move the data over, and then remove the old one',
  }),
  PASSTHROUGH_NEEDS_ROOT: entry<{ hosts: string }>({
    kind: 'invalid',
    title: 'Passthrough disks need root@pam',
    message: (a) => `cannot attach passthrough disks to ${a.hosts} with an API token`,
    why: () => 'Proxmox lets only the root@pam user, logged in with its password, give a VM a device path of the node; every API token is refused, root@pam!… included',
    hint: () =>
      'set proxmox.rootPassword in lab.yaml (or lab.local.yaml) to a secret reference holding root@pam\'s password, used for this step alone; or run the `qm set` lines `ahl passthrough` prints on the node as root; or pass the disks\' controller (HBA) through as a PCI device with a resource mapping, which a token with Mapping.Use may attach',
  }),
  TERRAFORM_NOT_FOUND: entry<Record<string, never>>({
    kind: 'environment',
    title: 'Terraform is missing',
    message: () => 'neither terraform nor tofu was found',
    why: () => 'L2 renders the lab\'s VMs as Terraform and runs terraform (or OpenTofu) with the bpg/proxmox provider',
    hint: () => 'install Terraform 1.6+ or OpenTofu and put it on PATH, or set AHL_TERRAFORM to its path',
  }),
  TERRAFORM_FAILED: entry<{ command: string; exitCode: number | string; diagnostic: string }>({
    kind: 'environment',
    title: 'Terraform failed',
    message: (a) => `\`${a.command}\` exited ${a.exitCode}: ${a.diagnostic}`,
    why: () => 'Terraform or the bpg/proxmox provider reported an error (its diagnostics follow)',
    hint: () =>
      'read the diagnostics; the rendered module is in .ahl/terraform under the lab root. After a failed apply run `ahl plan` again: Terraform records what it created, so the next apply carries on from there',
  }),
  TLS_PIN_MISMATCH: entry<{ endpoint: string; expected: string; actual: string; stage?: string }>({
    kind: 'invalid',
    title: 'The server is not the pinned one',
    message: (a) => `the server at ${a.endpoint} presented certificate ${a.actual}, not the pinned ${a.expected}${a.stage ? `; ${a.stage}` : ''}`,
    why: () => 'lab.yaml pins the Proxmox certificate (proxmox.tls.fingerprint); ahl and the Terraform it runs talk only to a server presenting exactly that certificate',
    hint: () =>
      'if the Proxmox certificate was renewed on purpose, pin the new fingerprint in lab.yaml proxmox.tls.fingerprint (`ahl runway` shows it); otherwise find out what answers at the endpoint before going on',
  }),
  VALUE_UNSAFE: entry<{ what: string; target: string; reason: string }>({
    kind: 'invalid',
    title: 'A value cannot be written safely',
    message: (a) => `${a.what} cannot be written into ${a.target}: ${a.reason}`,
    why: () => 'lab text and secrets are data: ahl writes a value only where it stays one value, and refuses it otherwise; nothing was changed',
    hint: () => 'change the value (or the secret it comes from) so it has no such characters',
  }),
  NOT_IMPLEMENTED: entry<{ command: string }>({
    kind: 'usage',
    title: 'Not available yet',
    message: (a) => `\`ahl ${a.command}\` is not available in this version`,
    hint: () => 'see `ahl --help` for the commands this version has',
  }),
  TEMPLATE_UNBUILT: entry<{ ref: string; image: string }>({
    kind: 'environment',
    title: 'The template is not built',
    message: (a) => `${a.ref} names no built template`,
    why: () => 'a host comes back from the template version its channel points at, as `ahl image build` recorded it; this channel has none',
    hint: (a) => `build it first: \`ahl image build ${a.image}\` (\`ahl up\` builds it too)`,
  }),
  RENDER_TARGET_NOT_EMPTY: entry<{ target: string }>({
    kind: 'usage',
    title: 'The render folder holds other files',
    message: (a) => `${a.target} is not empty and was not written by ahl render`,
    why: () => 'ahl render replaces the folder it writes whole, so it only writes into a new or empty folder, or one it wrote before',
    hint: () => 'give a new or empty folder with --out',
  }),
  BACKUP_TARGET_MISSING: entry<{ command: string }>({
    kind: 'invalid',
    title: 'The lab has no backup target',
    message: (a) => `\`ahl ${a.command}\` needs a backup target, and lab.yaml has no backup.target`,
    why: () => 'backups go to the host lab.yaml names under backup.target; nothing was contacted or changed',
    hint: () => 'declare backup.target in lab.yaml (kind: rsync, host, user, path), then run the command again',
  }),
  BACKUP_TARGET_UNSUPPORTED: entry<{ kind: string }>({
    kind: 'invalid',
    title: 'The backup target kind is not supported yet',
    message: (a) => `backup target kind ${a.kind} is not supported yet`,
    why: () => 'this version backs up with rsync over SSH only; nothing was contacted or changed',
    hint: () => 'use backup.target.kind: rsync in lab.yaml',
  }),
  NOTHING_TO_BACK_UP: entry<{ command: string }>({
    kind: 'usage',
    title: 'No selected host has data to back up',
    message: () => 'none of the selected hosts has data to back up',
    why: () => 'only the data folders of a persona\'s workloads with backup: true are backed up (and restored)',
    hint: (a) => `name a host or persona whose workloads declare data with backup: true (\`ahl ${a.command} --help\`)`,
  }),
  RECORD_INVALID: entry<{ file: string; reason: string }>({
    kind: 'invalid',
    title: 'A template record is not readable',
    message: (a) => `${a.file} is not a template record: ${a.reason}`,
    why: () => 'ahl image build writes the template records (manifests and channels) under the lab\'s records folder; this one does not match their format (edited by hand, cut short, or from another version of ahl)',
    hint: () => 'restore the file from Git (`git checkout -- FILE`), or remove it and build the template again (`ahl image build IMAGE`)',
  }),
  TEMPLATE_REMOVE_FAILED: entry<{ template: string; vmid: number; status: string }>({
    kind: 'environment',
    title: 'A template could not be removed',
    message: (a) => `removing template ${a.template} (vmid ${a.vmid}) failed: ${a.status}`,
    why: () => 'Proxmox ran the removal as a task and the task failed; the templates removed before it are gone with their records, this one and the rest are kept',
    hint: () => 'read the task\'s log on the node (Datacenter → Tasks), fix the cause (a VM still linked to it, a locked storage), then run `ahl image prune --approve` again',
  }),
  DOWNLOAD_FAILED: entry<{ url: string; reason: string }>({
    kind: 'environment',
    title: 'A file could not be fetched',
    message: (a) => `cannot fetch ${a.url}: ${a.reason}`,
    why: () => 'the image\'s checksum list is read by this machine before the node downloads the image; nothing was changed',
    hint: () => 'check the image\'s source.checksumUrl and that this machine reaches it (proxy, DNS), then run the command again',
  }),
  INTERNAL: entry<{ message: string }>({
    kind: 'internal',
    title: 'Internal error',
    message: (a) => a.message,
    hint: () => 'this is a bug in ahl; run again with AHL_DEBUG=1 and report the output with the command you ran',
  }),
} as const;

export type ErrorCode = keyof typeof catalogue;
type ArgsOf<C extends ErrorCode> = (typeof catalogue)[C] extends CatalogueEntry<infer A> ? A : never;

/** An expected failure with a stable code. `labChanged` says whether anything on any host was changed. */
export class AhlError extends Error {
  override readonly name = 'AhlError';
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly title: string;
  readonly why: string | undefined;
  readonly hint: string;
  readonly labChanged: boolean;
  readonly details: unknown;

  constructor(
    code: ErrorCode,
    fields: { message: string; why?: string; hint: string; kind: ErrorKind; title: string; labChanged?: boolean; details?: unknown; cause?: unknown },
  ) {
    super(fields.message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.code = code;
    this.kind = fields.kind;
    this.title = fields.title;
    this.why = fields.why;
    this.hint = fields.hint;
    this.labChanged = fields.labChanged ?? false;
    this.details = fields.details;
  }

  /** A plain, JSON-safe view for `--json` output. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      kind: this.kind,
      title: this.title,
      message: this.message,
      ...(this.why ? { why: this.why } : {}),
      hint: this.hint,
      labChanged: this.labChanged,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

/** Builds the catalogued error `code` from its arguments. */
export function ahlError<C extends ErrorCode>(
  code: C,
  args: ArgsOf<C>,
  extra: { labChanged?: boolean; details?: unknown; cause?: unknown } = {},
): AhlError {
  const e = catalogue[code] as unknown as CatalogueEntry<ArgsOf<C>>;
  return new AhlError(code, {
    kind: e.kind,
    title: e.title,
    message: e.message(args),
    ...(e.why ? { why: e.why(args) } : {}),
    hint: e.hint(args),
    ...extra,
  });
}

export function isAhlError(e: unknown): e is AhlError {
  return e instanceof AhlError;
}

/** For `sops:PATH#KEY`: where to add the key. */
function sopsMissingHint(ref: string): string {
  const hash = ref.lastIndexOf('#');
  const path = ref.slice(5, hash);
  return `add ${ref.slice(hash + 1)} to ${path} with \`sops edit ${path}\` (create the file with \`sops encrypt\` first if it does not exist)`;
}

export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
