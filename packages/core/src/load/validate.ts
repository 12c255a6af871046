import type { z } from 'zod';
import { deepFreeze, type Host, type Image, type Lab, type Persona, type Stack } from '../model/lab.js';
import { inSubnet, isNetworkOrBroadcast, parseIpv4Cidr } from '../model/net.js';
import { ImageSchema, LabLocalSchema, LabSchema, PersonaSchema, TEMPLATE_CHANNELS, type ExtraDisk, type ExtraNic, type ImageSpec, type LabConfig, type HostSpec, type LabLocal, type PersonaSpec } from '../model/schema.js';
import { knownKeysAt } from '../model/schema-walk.js';
import { diagnostic, didYouMean, formatField, issuesToDiagnostics, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { checkCompose, interpolate, publishedPorts, type ComposeSummary } from './compose.js';
import { fileTooLarge, ParsedYaml, type FieldPath, type SourceFile } from './yaml-source.js';
import { labPaths, personaPaths, type LocalPathRef } from './local-paths.js';
import { checkStackTemplate } from './jinja.js';
import { EnvFallbacks, type EnvFallback, type LabEnv } from './env-fallbacks.js';

/** Everything validation needs, already read from disk, so validation itself is pure. */
export interface LabInput {
  /** Absolute path of the lab root. */
  readonly root: string;
  /** lab.yaml, images/*.yaml and personas/*.yaml, with paths relative to the root. */
  readonly files: readonly SourceFile[];
  /** Folders under stacks/, each with the names of the files directly inside it. */
  readonly stacks: Readonly<Record<string, readonly string[]>>;
  /** The compose file of each stack that has one (`stacks/NAME/compose.yaml`), read for its checks. */
  readonly composeFiles?: readonly SourceFile[];
  /** The Jinja templates of the stacks (`stacks/NAME/*.j2`), checked against what ahl renders. */
  readonly templateFiles?: readonly SourceFile[];
  /**
   * The original lab's environment variables (PVE_NODE, PVE_BRIDGE, …; see env-fallbacks.ts) that
   * fill what lab.yaml leaves out. Absent: lab.yaml alone.
   */
  readonly env?: LabEnv;
}

export interface ValidationResult {
  /** Present only when there is no error. */
  readonly lab?: Lab;
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly Diagnostic[];
  /** How many files were read. */
  readonly files: number;
  /** Paths on this machine the lab's files name, for the loader to check (see local-paths.ts). */
  readonly localPaths?: readonly LocalPathRef[];
  /** The environment variables that filled fields lab.yaml left out (absent when none did). */
  readonly envFallbacks?: readonly EnvFallback[];
}

export const LAB_FILE = 'lab.yaml';
/** Machine-local overrides, never committed (see LabLocalSchema). */
export const LAB_LOCAL_FILE = 'lab.local.yaml';
export const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;
const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Names a place in the lab when called. */
type Where = () => string;

interface Checked<T> {
  readonly name: string;
  readonly parsed: ParsedYaml;
  readonly spec: T;
}

class Collector {
  readonly diagnostics: Diagnostic[] = [];
  error(parsed: ParsedYaml, path: FieldPath, message: string, target: 'key' | 'value' = 'value'): void {
    this.diagnostics.push(diagnostic('error', parsed.file.path, parsed.locate(path, target), path, message));
  }
  warn(parsed: ParsedYaml, path: FieldPath, message: string, target: 'key' | 'value' = 'value'): void {
    this.diagnostics.push(diagnostic('warning', parsed.file.path, parsed.locate(path, target), path, message));
  }
  whole(file: string, message: string): void {
    this.diagnostics.push({ severity: 'error', file, line: 1, col: 1, field: '', message });
  }
  /**
   * `file:line:col` of a field, worked out only when asked: uniqueness checks note where every value
   * was first seen but name the place only when a second one turns up.
   */
  where(parsed: ParsedYaml, path: FieldPath, target: 'key' | 'value' = 'value'): Where {
    return () => {
      const p = parsed.locate(path, target);
      return `${parsed.file.path}:${p.line}:${p.col}`;
    };
  }
}

function checkFile<S extends z.ZodType>(schema: S, file: SourceFile, out: Collector, fill?: (value: unknown) => unknown): { parsed: ParsedYaml; spec?: z.output<S> } {
  const parsed = new ParsedYaml(file);
  for (const p of parsed.problems) {
    out.diagnostics.push(diagnostic(p.severity, file.path, p.position, p.field, p.message, p.code));
  }
  if (parsed.problems.some((p) => p.fatal)) return { parsed };
  if (parsed.value === null || parsed.value === undefined) {
    out.whole(file.path, 'the file is empty; expected a mapping');
    return { parsed };
  }
  const value = fill ? fill(parsed.value) : parsed.value;
  const result = schema.safeParse(value);
  if (!result.success) {
    // A field holding a control character is reported once, by the YAML check that names the
    // character: what the model says about the same field follows from it.
    const controlled = new Set(parsed.problems.filter((p) => p.code === 'YAML_CONTROL_CHARACTER').map((p) => formatField(p.field)));
    const issues = issuesToDiagnostics(parsed, value, result.error.issues, (path) => knownKeysAt(schema, path));
    out.diagnostics.push(...(controlled.size ? issues.filter((d) => !controlled.has(d.field)) : issues));
    return { parsed };
  }
  if (parsed.problems.some((p) => p.severity === 'error')) return { parsed };
  return { parsed, spec: result.data };
}

/** The name a file's basename gives, e.g. personas/docker.yaml → docker. */
function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(/\.ya?ml$/, '');
}

/**
 * Checks every file against the model and the files against each other, reporting every problem at
 * once. Pure: nothing is read, contacted or changed.
 */
export function validateLab(input: LabInput): ValidationResult {
  const out = new Collector();
  const labFile = input.files.find((f) => f.path === LAB_FILE);
  const images: Checked<ImageSpec>[] = [];
  const personas: Checked<PersonaSpec>[] = [];
  let lab: { parsed: ParsedYaml; spec?: LabConfig } | undefined;
  let local: { parsed: ParsedYaml; spec?: LabLocal } | undefined;
  const seen = new Map<string, string>();
  // Images whose own file is invalid: personas naming them get no second, misleading error.
  const brokenImages = new Set<string>();
  const fallbacks = new EnvFallbacks(input.env);

  for (const file of [...input.files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    if (file.path === LAB_FILE) {
      lab = checkFile(LabSchema, file, out, fallbacks.fill);
      fallbacks.explain(out.diagnostics);
      continue;
    }
    if (file.path === LAB_LOCAL_FILE) {
      local = checkFile(LabLocalSchema, file, out);
      continue;
    }
    const dir = file.path.slice(0, file.path.indexOf('/'));
    const name = nameOf(file.path);
    if (!NAME_RE.test(name)) {
      out.whole(file.path, `the file name "${name}" must be a DNS label (lowercase letters, digits and dashes): it names the ${dir === 'images' ? 'image' : 'persona'}`);
      continue;
    }
    const key = `${dir}/${name}`;
    if (seen.has(key)) {
      out.whole(file.path, `${seen.get(key)} already defines ${dir === 'images' ? 'image' : 'persona'} "${name}"`);
      continue;
    }
    seen.set(key, file.path);
    if (dir === 'images') {
      const r = checkFile(ImageSchema, file, out);
      if (r.spec) images.push({ name, parsed: r.parsed, spec: r.spec });
      else brokenImages.add(name);
    } else if (dir === 'personas') {
      const r = checkFile(PersonaSchema, file, out);
      if (r.spec) personas.push({ name, parsed: r.parsed, spec: r.spec });
    }
  }
  if (!labFile) out.whole(LAB_FILE, 'lab.yaml is missing: every lab needs one at its root');
  for (const t of input.templateFiles ?? []) {
    const tooLarge = fileTooLarge(t);
    if (tooLarge) out.diagnostics.push({ severity: 'error', file: t.path, line: 1, col: 1, field: '', message: tooLarge, code: 'FILE_TOO_LARGE' });
    else for (const p of checkStackTemplate(t.text)) out.diagnostics.push({ severity: 'error', file: t.path, line: p.line, col: p.col, field: '', message: p.message });
  }

  const refs = (parsed: ParsedYaml, paths: { path: FieldPath; value: string }[]): LocalPathRef[] =>
    paths.map(({ path, value }) => {
      const d = diagnostic('error', parsed.file.path, parsed.locate(path, 'value'), path, '');
      return { file: d.file, line: d.line, col: d.col, field: d.field, path: value };
    });
  // Taken before lab.local.yaml is laid over lab.yaml: the machine's own file names its own paths.
  const localPaths = [...(lab?.spec ? refs(lab.parsed, labPaths(lab.spec)) : []), ...personas.flatMap((p) => refs(p.parsed, personaPaths(p.spec)))];
  if (lab?.spec && local?.spec) applyLocal(lab.spec, local as { parsed: ParsedYaml; spec: LabLocal }, images, personas, out);
  const recordsRoot = local?.spec?.records ? `${input.root.replace(/\/$/, '')}/${local.spec.records.replace(/\/$/, '')}` : input.root;
  const resolved = lab?.spec ? crossCheck(input, { parsed: lab.parsed, spec: lab.spec }, images, personas, brokenImages, out, recordsRoot) : undefined;
  const diagnostics = sortDiagnostics(out.diagnostics);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const warnings = diagnostics.filter((d) => d.severity === 'warning');
  const result: ValidationResult = { errors, warnings, files: input.files.length, localPaths, ...fallbacks.result(local?.spec) };
  // A half-checked lab is never handed on: with any error anywhere, there is no Lab value.
  return errors.length === 0 && resolved ? { ...result, lab: resolved } : result;
}

/** Lays lab.local.yaml over the checked lab.yaml and image specs (in place: they are this run's own copies). */
function applyLocal(cfg: LabConfig, local: { parsed: ParsedYaml; spec: LabLocal }, images: Checked<ImageSpec>[], personas: Checked<PersonaSpec>[], out: Collector): void {
  const p = local.spec.proxmox;
  if (p) {
    const { tls, ...rest } = p;
    Object.assign(cfg.proxmox, Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
    // A local endpoint brings its own trust: the pin replaces lab.yaml's TLS settings rather than merging with them.
    if (tls) cfg.proxmox.tls = { verify: tls.verify ?? true, ...(tls.fingerprint ? { fingerprint: tls.fingerprint } : {}), ...(tls.ca ? { ca: tls.ca } : {}) };
  }
  if (local.spec.ssh) Object.assign(cfg.ssh, Object.fromEntries(Object.entries(local.spec.ssh).filter(([, v]) => v !== undefined)));
  const extraKeys = local.spec.extraSshKeys ?? [];
  const plus = (keys: readonly string[]) => [...new Set([...keys, ...extraKeys])];
  if (extraKeys.length) cfg.cloudInit.sshKeys = plus(cfg.cloudInit.sshKeys);
  // What this machine changes in every persona's system section, in one pass.
  const { aptProxy, containerEngineSource: source } = local.spec.system ?? {};
  for (const p of personas) {
    const s = p.spec.system;
    if (!s) continue;
    (p as { spec: PersonaSpec }).spec = {
      ...p.spec,
      system: {
        ...s,
        ...(aptProxy ? { aptProxy } : {}),
        ...(source && s.containerEngine ? { containerEngine: { ...s.containerEngine, source } } : {}),
        // A user with keys gets exactly those on every converge: this machine's keys must be among them.
        ...(extraKeys.length ? { users: s.users.map((u) => (u.sshKeys.length ? { ...u, sshKeys: plus(u.sshKeys) } : u)) } : {}),
      },
    };
  }
  for (const [name, o] of Object.entries(local.spec.nodes ?? {})) {
    const n = cfg.nodes[name];
    if (!n) out.error(local.parsed, ['nodes', name], `node "${name}" is not declared in lab.yaml`, 'key');
    else if (o.ssh !== undefined) n.ssh = o.ssh;
  }
  for (const [name, o] of Object.entries(local.spec.images ?? {})) {
    const img = images.find((i) => i.name === name);
    if (!img) {
      out.error(local.parsed, ['images', name], `image "${name}" is not declared in images/`, 'key');
      continue;
    }
    (img as { spec: ImageSpec }).spec = { ...img.spec, source: { url: o.source.url, ...(o.source.checksum ? { checksum: o.source.checksum } : {}), ...(o.source.checksumUrl ? { checksumUrl: o.source.checksumUrl } : {}) } };
  }
}

function crossCheck(
  input: LabInput,
  lab: { parsed: ParsedYaml; spec: LabConfig },
  images: Checked<ImageSpec>[],
  personas: Checked<PersonaSpec>[],
  brokenImages: ReadonlySet<string>,
  out: Collector,
  recordsRoot: string,
): Lab {
  const cfg = lab.spec;
  const nodes = Object.keys(cfg.nodes);
  const imageByName = new Map(images.map((i) => [i.name, i]));

  const checkNode = (parsed: ParsedYaml, path: FieldPath, node: string) => {
    if (nodes.includes(node)) return;
    const guess = didYouMean(node, nodes);
    out.error(parsed, path, `node "${node}" is not in lab.yaml nodes${guess ? `; did you mean "${guess}"?` : ` (${nodes.join(', ')})`}`);
  };

  for (const img of images) {
    if (img.spec.template.node) checkNode(img.parsed, ['template', 'node'], img.spec.template.node);
    if (img.spec.kind === 'appliance' && img.spec.source.url && !img.spec.source.capture && img.spec.os.family !== 'haos' && img.spec.os.family !== 'truenas' && img.spec.os.family !== 'other')
      out.warn(img.parsed, ['kind'], `an appliance image of the ${img.spec.os.family} family is unusual; did you mean kind: cloud?`);
  }

  const stacks: Record<string, Stack> = {};
  const composeSummaries = new Map<string, ComposeSummary>();
  const composeTexts = new Map((input.composeFiles ?? []).map((f) => [f.path, f]));
  for (const [name, files] of Object.entries(input.stacks).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const compose = COMPOSE_FILES.find((f) => files.includes(f));
    if (!compose) continue;
    const composeFile = `stacks/${name}/${compose}`;
    const text = composeTexts.get(composeFile);
    if (text) {
      const summary = checkCompose(text);
      composeSummaries.set(name, summary);
      for (const p of summary.parsed.problems) out.diagnostics.push(diagnostic(p.severity, composeFile, p.position, p.field, p.message, p.code));
      for (const p of summary.problems) out.error(summary.parsed, p.path, p.message, p.target);
      stacks[name] = { name, dir: `stacks/${name}`, composeFile, services: summary.services };
    } else stacks[name] = { name, dir: `stacks/${name}`, composeFile };
  }

  // Values that must be unique across the whole lab, with where each was first seen.
  const firstHost = new Map<string, Where>();
  const firstVmid = new Map<number, Where>();
  const firstIp = new Map<string, Where>();
  const firstMac = new Map<string, Where>();
  const firstDevice = new Map<string, Where>();
  const hosts: Host[] = [];
  const resolvedPersonas: Record<string, Persona> = {};

  for (const p of [...personas].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const { spec, parsed } = p;
    resolvedPersonas[p.name] = { ...spec, name: p.name, file: parsed.file.path };
    const [imageName, channel] = spec.template.split('@') as [string, string];
    const image = imageByName.get(imageName);
    if (!image && !brokenImages.has(imageName)) {
      const guess = didYouMean(imageName, imageByName.keys());
      out.error(parsed, ['template'], `image "${imageName}" is not declared in images/${guess ? `; did you mean "${guess}@${channel}"?` : ''}`);
    } else if (image) {
      if (image.spec.kind !== (spec.kind === 'appliance' ? 'appliance' : 'cloud'))
        out.error(parsed, ['template'], `a${spec.kind === 'vm' ? ' vm' : 'n appliance'} persona needs a${spec.kind === 'vm' ? ' cloud' : 'n appliance'} image, but ${imageName} is kind ${image.spec.kind}`);
    }
    if (!(TEMPLATE_CHANNELS as readonly string[]).includes(channel))
      out.error(parsed, ['template'], `channel "${channel}" does not exist; use ${TEMPLATE_CHANNELS.map((c) => `@${c}`).join(' or ')}`);

    if (spec.kind === 'appliance') {
      if (spec.system) out.error(parsed, ['system'], 'an appliance persona has no L3: it is not converged by ahl, remove this section', 'key');
      if (spec.workloads.length) out.error(parsed, ['workloads'], 'an appliance persona has no L4: it runs no stacks, remove this section', 'key');
    }

    const stackNames = new Set<string>();
    spec.workloads.forEach((w, i) => {
      if (stackNames.has(w.stack)) out.error(parsed, ['workloads', i, 'stack'], `stack "${w.stack}" is listed twice`);
      stackNames.add(w.stack);
      if (!stacks[w.stack]) {
        const guess = didYouMean(w.stack, Object.keys(stacks));
        const dir = input.stacks[w.stack];
        out.error(
          parsed,
          ['workloads', i, 'stack'],
          dir ? `stacks/${w.stack}/ has no compose file (${COMPOSE_FILES[0]})` : `stacks/${w.stack}/ does not exist${guess ? `; did you mean "${guess}"?` : ''}`,
        );
      }
      w.data.forEach((d, j) => {
        if (!cfg.workloads.dataRoots.some((root) => d.path === root || d.path.startsWith(root.endsWith('/') ? root : `${root}/`)))
          out.error(parsed, ['workloads', i, 'data', j, 'path'], `must lie under one of the data roots in lab.yaml (${cfg.workloads.dataRoots.join(', ')})`);
        else if (cfg.workloads.dataRoots.includes(d.path)) out.error(parsed, ['workloads', i, 'data', j, 'path'], 'must be a folder inside a data root, not the root itself');
      });
    });
    // Ports are checked once per distinct set of env values: the persona's, and each host's overrides.
    const envSets = new Map<string, { workloads: PersonaSpec['workloads']; hosts: string[] }>();
    for (const [name, h] of Object.entries(spec.hosts).length ? Object.entries(spec.hosts) : [['', undefined] as const]) {
      const ws = hostWorkloads(spec.workloads, h?.workloads ?? {});
      const key = JSON.stringify(ws.map((w) => w.env));
      const set = envSets.get(key) ?? { workloads: ws, hosts: [] };
      if (name && Object.keys(h?.workloads ?? {}).length) set.hosts.push(name);
      envSets.set(key, set);
    }
    const seenPortErrors = new Set<string>();
    for (const set of envSets.values()) checkPorts(parsed, set.workloads, set.hosts, composeSummaries, out, seenPortErrors);
    if (spec.workloads.length && spec.kind === 'vm' && !spec.system?.containerEngine)
      out.warn(parsed, ['workloads'], 'stacks need a container engine: add system.containerEngine (kind: docker)', 'key');

    const hostEntries = Object.entries(spec.hosts);
    if (hostEntries.length === 0) out.warn(parsed, ['hosts'], 'this persona has no hosts yet', 'key');

    // An error in the persona's own disks or NICs is said once, not once per host.
    const reported = new Set<string>();
    for (const [name, h] of hostEntries) {
      const at = (...rest: (string | number)[]): FieldPath => ['hosts', name, ...rest];
      const here = out.where(parsed, at(), 'key');
      /** A vmid, MAC or address is this host's unless an earlier one holds it: then `taken` is an error at `path`. */
      const claim = <K>(seen: Map<K, Where>, key: K, path: FieldPath, taken: string): void => {
        const first = seen.get(key);
        if (first) out.error(parsed, path, `${taken} is already used by ${first()}`);
        else seen.set(key, usedBy(name, out.where(parsed, path)));
      };
      const prior = firstHost.get(name);
      if (prior) out.error(parsed, at(), `host "${name}" is already declared at ${prior()}`, 'key');
      else firstHost.set(name, here);

      if (h.runtime === 'baremetal') {
        if (spec.kind === 'appliance') out.error(parsed, at('runtime'), 'an appliance is a VM restored from a captured disk; it cannot be bare metal');
        if (h.node !== undefined) out.error(parsed, at('node'), 'a bare-metal host runs on no Proxmox node; remove node');
        if (h.vmid !== undefined) out.error(parsed, at('vmid'), 'a bare-metal host has no vmid; remove it');
      } else if (h.node === undefined) out.error(parsed, at('node'), 'is required: the Proxmox node the VM runs on (or runtime: baremetal for a physical machine)');
      else checkNode(parsed, at('node'), h.node);
      for (const stack of Object.keys(h.workloads))
        if (!stackNames.has(stack)) out.error(parsed, at('workloads', stack), `stack "${stack}" is not among this persona's workloads (${[...stackNames].join(', ') || 'none'})`, 'key');

      if (h.vmid !== undefined) claim(firstVmid, h.vmid, at('vmid'), `vmid ${h.vmid}`);
      if (h.mac !== undefined) claim(firstMac, h.mac.toUpperCase(), at('mac'), `MAC ${h.mac}`);

      const disks = h.disks ?? spec.disks;
      const nics = h.nics ?? spec.nics;
      // A persona's disks and NICs are reported where the persona declares them, a host's own on the host.
      const diskAt = (...rest: (string | number)[]): FieldPath => (h.disks ? at(...rest) : rest);
      const nicAt = (...rest: (string | number)[]): FieldPath => (h.nics ? at(...rest) : rest);
      checkExtraHardware(h, spec, disks, nics, diskAt, nicAt, (path, msg) => {
        const key = JSON.stringify([path, msg]);
        if (!reported.has(key)) out.error(parsed, path, msg);
        reported.add(key);
      });
      // A persona's NICs hold no address or MAC (checkExtraHardware): only a host's own can collide.
      h.nics?.forEach((n, i) => {
        if (n.mac !== undefined) claim(firstMac, n.mac.toUpperCase(), at('nics', i, 'mac'), `MAC ${n.mac}`);
        const nip = n.ip === 'dhcp' ? undefined : parseIpv4Cidr(n.ip);
        if (nip) {
          claim(firstIp, nip.address, at('nics', i, 'ip'), `address ${nip.address}`);
          if (isNetworkOrBroadcast(nip)) out.error(parsed, at('nics', i, 'ip'), `${nip.address} is the network or broadcast address of ${nip.cidr}`);
        }
      });

      checkPassthrough(name, h, spec.disk.interface, (i, field) => at('passthrough', i, ...field), firstDevice, (path, msg) => out.error(parsed, path, msg), (path) => out.where(parsed, path));

      const ip = h.ip ? parseIpv4Cidr(h.ip) : undefined;
      if (spec.kind === 'vm') {
        if (!h.ip) out.error(parsed, at('ip'), `is required: cloud-init gives every ${h.runtime === 'baremetal' ? 'host' : 'VM'} a static IPv4 address (like 192.168.1.31/24)`);
        if (!h.gateway) out.error(parsed, at('gateway'), 'is required with a static address');
      }
      if (ip) {
        claim(firstIp, ip.address, at('ip'), `address ${ip.address}`);
        if (isNetworkOrBroadcast(ip)) out.error(parsed, at('ip'), `${ip.address} is the network or broadcast address of ${ip.cidr}`);
        if (h.gateway) {
          if (!inSubnet(h.gateway, ip)) out.error(parsed, at('gateway'), `${h.gateway} is outside the host's subnet ${ip.cidr}`);
          else if (h.gateway === ip.address) out.error(parsed, at('gateway'), 'is the host\'s own address');
        }
      } else if (h.gateway && spec.kind === 'appliance') {
        out.warn(parsed, at('gateway'), 'has no effect without ip');
      }

      const nodeCfg = (h.node ? cfg.nodes[h.node] : undefined) ?? {};
      // The persona's resources carry the schema's defaults; the lab's cpuType fills in where neither names one.
      const res = { ...spec.resources, cpuType: spec.resources.cpuType ?? cfg.defaults.cpuType, ...strip(h.resources ?? {}) };
      const host: Host = {
        name,
        persona: p.name,
        kind: spec.kind,
        runtime: h.runtime,
        ...(h.description !== undefined ? { description: h.description } : {}),
        ...(h.node !== undefined ? { node: h.node } : {}),
        template: { ref: spec.template, image: imageName, channel },
        ...(ip ? { ip } : {}),
        ...(h.gateway ? { gateway: h.gateway } : {}),
        dns: h.dns ?? spec.dns ?? (h.gateway ? [h.gateway] : []),
        ...((h.searchDomain ?? spec.searchDomain) ? { searchDomain: (h.searchDomain ?? spec.searchDomain)! } : {}),
        ...(h.vmid !== undefined ? { vmid: h.vmid } : {}),
        ...(h.mac !== undefined ? { mac: h.mac.toUpperCase() } : {}),
        resources: res,
        network: {
          bridge: spec.network.bridge ?? nodeCfg.bridge ?? cfg.defaults.bridge,
          ...(spec.network.vlan !== undefined ? { vlan: spec.network.vlan } : {}),
          model: spec.network.model,
          firewall: spec.network.firewall,
        },
        disk: {
          datastore: spec.disk.datastore ?? nodeCfg.storage?.vm ?? cfg.defaults.storage.vm ?? 'local-lvm',
          interface: spec.disk.interface,
          ssd: spec.disk.ssd,
          discard: spec.disk.discard,
        },
        passthrough: [...h.passthrough].sort((a, b) => a.slot.localeCompare(b.slot, 'en', { numeric: true })),
        disks: (h.runtime === 'baremetal' ? [] : [...disks])
          .sort((a, b) => a.slot.localeCompare(b.slot, 'en', { numeric: true }))
          .map((d) => ({ ...d, datastore: d.datastore ?? spec.disk.datastore ?? nodeCfg.storage?.vm ?? cfg.defaults.storage.vm ?? 'local-lvm' })),
        nics: (h.runtime === 'baremetal' ? [] : nics).map((n) => ({ ...n, bridge: n.bridge ?? nodeCfg.bridge ?? cfg.defaults.bridge })),
        onBoot: spec.onBoot,
        tags: [...new Set(['ahl', p.name, ...spec.tags, ...h.tags])].sort(),
        groups: [...new Set(h.groups)].sort(),
        ...(spec.system ? { system: spec.system } : {}),
        workloads: hostWorkloads(spec.workloads, h.workloads),
        ...(spec.backup ? { backup: spec.backup } : {}),
      };
      hosts.push(host);
    }
  }

  const resolvedImages: Record<string, Image> = {};
  for (const i of [...images].sort((a, b) => (a.name < b.name ? -1 : 1))) resolvedImages[i.name] = { ...i.spec, name: i.name, file: i.parsed.file.path };

  return deepFreeze({
    root: input.root,
    recordsRoot,
    name: cfg.name,
    config: cfg,
    images: resolvedImages,
    personas: resolvedPersonas,
    hosts: hosts.sort((a, b) => (a.name < b.name ? -1 : 1)),
    stacks,
  });
}

/**
 * Passthrough disks: VMs only, one disk per slot, never the boot disk's slot, no option the slot's
 * bus lacks, and one VM per physical disk across the lab (two guests writing one disk destroy it).
 */
function checkPassthrough(
  name: string,
  h: HostSpec,
  bootSlot: string,
  at: (i: number, field: (string | number)[]) => FieldPath,
  firstDevice: Map<string, Where>,
  error: (path: FieldPath, message: string) => void,
  where: (path: FieldPath) => Where,
): void {
  if (h.runtime === 'baremetal' && h.passthrough.length) {
    error(at(0, []).slice(0, -1), 'a bare-metal host has its disks already; passthrough is for VMs');
    return;
  }
  const slots = new Map<string, number>();
  h.passthrough.forEach((d, i) => {
    if (d.slot === bootSlot) error(at(i, ['slot']), `${d.slot} holds the VM's boot disk; pick another slot`);
    const prior = slots.get(d.slot);
    if (prior !== undefined) error(at(i, ['slot']), `slot ${d.slot} is already used by passthrough[${prior}]`);
    else slots.set(d.slot, i);
    if (d.slot.startsWith('virtio') && d.options.ssd !== undefined) error(at(i, ['options', 'ssd']), 'virtio disks have no ssd option; use a scsi or sata slot');
    if (d.slot.startsWith('sata') && d.options.iothread !== undefined) error(at(i, ['options', 'iothread']), 'sata disks have no iothread option; use a scsi or virtio slot');
    const first = firstDevice.get(d.device);
    if (first) error(at(i, ['device']), `${d.device} is already passed to ${first()}; a disk belongs to one VM`);
    else firstDevice.set(d.device, usedBy(name, where(at(i, ['device']))));
  });
}

/**
 * Extra disks and NICs: VMs only; a disk slot once (the schema keeps the boot disk's slots out), never a passthrough disk's;
 * an appliance has no L3 to mount a disk nor cloud-init to address a NIC; a persona's NIC is every
 * host's, so a static address or a MAC belongs on a host. `diskAt`/`nicAt` name the list the value came from.
 */
function checkExtraHardware(
  h: HostSpec,
  spec: PersonaSpec,
  disks: readonly ExtraDisk[],
  nics: readonly ExtraNic[],
  diskAt: (...rest: (string | number)[]) => FieldPath,
  nicAt: (...rest: (string | number)[]) => FieldPath,
  error: (path: FieldPath, message: string) => void,
): void {
  // A bare-metal host of a persona with VMs takes none of the VMs' hardware; its own list is an error.
  if (h.runtime === 'baremetal') {
    if (h.disks?.length) error(diskAt('disks'), 'a bare-metal host has its disks already; mount them with system.mounts');
    if (h.nics?.length) error(nicAt('nics'), 'a bare-metal host has its NICs already; extra NICs are for VMs');
    return;
  }
  const slots = new Map<string, number>();
  disks.forEach((d, i) => {
    const prior = slots.get(d.slot);
    if (prior !== undefined) error(diskAt('disks', i, 'slot'), `slot ${d.slot} is already used by disks[${prior}]`);
    else slots.set(d.slot, i);
    if (h.passthrough.some((p) => p.slot === d.slot)) error(diskAt('disks', i, 'slot'), `slot ${d.slot} holds a passthrough disk; pick another slot`);
    if (d.mount && spec.kind === 'appliance') error(diskAt('disks', i, 'mount'), 'an appliance is not converged by L3: it formats and mounts its disks itself');
  });
  const personaLevel = !h.nics;
  nics.forEach((n, i) => {
    if (personaLevel && n.ip !== 'dhcp') error(nicAt('nics', i, 'ip'), 'every host of the persona would get this address: give static addresses per host (hosts.NAME.nics)');
    if (personaLevel && n.mac !== undefined) error(nicAt('nics', i, 'mac'), 'every host of the persona would get this MAC: give MACs per host (hosts.NAME.nics)');
    if (spec.kind === 'appliance' && n.ip !== 'dhcp') error(nicAt('nics', i, 'ip'), 'an appliance has no cloud-init: it addresses its NICs itself');
  });
}

/** `host (file:line:col)`, for "already used by". */
function usedBy(host: string, where: Where): Where {
  return () => `${host} (${where()})`;
}

function strip<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Every host of a persona runs all its workloads, so two published ports that collide anywhere in
 * them collide on each of its hosts. Ports are interpolated with the workload's env as Compose would;
 * a port that depends on a value only known at deploy time (a secret, an unset variable) is skipped.
 */
function checkPorts(
  parsed: ParsedYaml,
  workloads: PersonaSpec['workloads'],
  hosts: readonly string[],
  composes: ReadonlyMap<string, ComposeSummary>,
  out: Collector,
  reported: Set<string>,
): void {
  const first = new Map<string, string>();
  const where = hosts.length ? `on ${hosts.join(', ')}` : 'on the same hosts';
  workloads.forEach((w, i) => {
    const compose = composes.get(w.stack);
    if (!compose) return;
    const env = Object.fromEntries(Object.entries(w.env).map(([k, v]) => [k, String(v)]));
    for (const p of compose.ports) {
      const at = `${compose.parsed.file.path}:${compose.parsed.locate(p.path).line}`;
      const text = interpolate(p.spec, env);
      if (text === undefined) continue;
      const published = publishedPorts(text);
      if (!published) {
        const msg = `"${text}" is not a port mapping ([IP:]HOST:CONTAINER[/PROTOCOL])`;
        if (!reported.has(`${p.path.join('.')}|${msg}`)) out.error(compose.parsed, p.path, msg);
        reported.add(`${p.path.join('.')}|${msg}`);
        continue;
      }
      for (const pp of published) {
        const label = `${pp.port}/${pp.protocol}`;
        const mine = `stack "${w.stack}" service ${p.service} (${at})`;
        // An address-less port takes every address, so it collides with the same port on any address.
        const clash = [...first].find(([k]) => {
          const [addr, port] = [k.slice(0, k.lastIndexOf('|')), k.slice(k.lastIndexOf('|') + 1)];
          return port === label && (addr === pp.address || addr === '' || pp.address === '');
        });
        if (clash) {
          const msg = `${mine} publishes port ${label}, which ${clash[1]} already publishes ${where}`;
          if (!reported.has(msg)) out.error(parsed, ['workloads', i, 'stack'], msg);
          reported.add(msg);
        } else first.set(`${pp.address}|${label}`, mine);
      }
    }
  });
}

/** A host's workloads: the persona's, with the host's env values for a stack laid over the workload's. */
function hostWorkloads(workloads: PersonaSpec['workloads'], overrides: Readonly<Record<string, { env: Record<string, string | number | boolean> }>>): PersonaSpec['workloads'] {
  return workloads.map((w) => (overrides[w.stack] ? { ...w, env: { ...w.env, ...overrides[w.stack]!.env } } : w));
}
