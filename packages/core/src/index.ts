export { AhlError, ahlError, catalogue, EXIT_STATUS, isAhlError, plural, type ErrorCode, type ErrorKind } from './errors.js';
export { ERRORS_DOC, renderErrorsDoc } from './errors-doc.js';
export { Redactor, Secrets, findSops, isSecretRef, SECRET_REF_RE, type SecretRef, type SecretSource } from './secrets.js';
export { MemoryReporter, silentReporter, type Reporter } from './reporter.js';
export {
  ImageSchema,
  LabLocalSchema,
  LabSchema,
  PersonaSchema,
  isRequirementRole,
  RESERVED_SYSTEM_TAGS,
  systemStepTag,
  TEMPLATE_CHANNELS,
  type BackupPolicy,
  type FirewallSpec,
  type MountSpec,
  type HostSpec,
  type ImageSpec,
  type LabConfig,
  type LabLocal,
  type PassthroughDisk,
  type ExtraDisk,
  type ExtraNic,
  type PersonaSpec,
  type Resources,
  type SystemSpec,
  type SystemStepSpec,
  type WorkloadSpec,
} from './model/schema.js';
export type { Host, HostResources, Image, Lab, Persona, Stack, TemplateRef } from './model/lab.js';
export { diskSerial } from './model/lab.js';
export { selectTargets, vmHosts, type VmHost } from './model/targets.js';
export { RUN_DIR_PLACEHOLDER, type LayerArtifacts, type LayerContract, type LayerId, type RenderFacts } from './layer.js';
export { inSubnet, isIpv4, lastUsable, parseIpv4Cidr, type Ipv4Cidr } from './model/net.js';
export { jsonSchema, jsonSchemaFiles, SCHEMA_FILES, type SchemaName } from './model/json-schema.js';
export { formatDiagnostic, type Diagnostic, type Severity } from './load/diagnostics.js';
export { COMPOSE_FILES, LAB_FILE, LAB_LOCAL_FILE, validateLab, type LabInput, type ValidationResult } from './load/validate.js';
export { findLabRoot, loadLab, readLabInput } from './load/loader.js';
export { formatEnvFallback, type EnvFallback, type LabEnv } from './load/env-fallbacks.js';
export { checkCompose, interpolate, publishedPorts, type ComposePort, type ComposeSummary, type PublishedPort } from './load/compose.js';
export type { SourceFile } from './load/yaml-source.js';
// The client itself is loaded lazily (createProxmoxClient, connectLab): only its type is exported here.
export type { ProxmoxClient, ProxmoxConnection } from './proxmox/client.js';
export { createProxmoxClient } from './proxmox/create.js';
export { encodeParams, type HttpMethod } from './proxmox/params.js';
export { FingerprintMismatchError, ProxmoxApiError, ProxmoxUnreachableError } from './proxmox/errors.js';
export { normaliseFingerprint, pemFingerprint, type TlsPolicy } from './proxmox/fingerprint.js';
export { parseUpid, waitForTask, type TaskResult, type Upid, type WaitOptions } from './proxmox/tasks.js';
export { connectLab, connectLabAsRoot, labToken } from './proxmox/connect.js';
export type { Proxmox } from 'proxmox-api';
export {
  artifactsDir,
  ChannelsSchema,
  channelsFile,
  manifestForChannel,
  readImageRecords,
  recordJson,
  TemplateManifestSchema,
  type Channels,
  type ImageRecords,
  type TemplateManifest,
} from './model/templates.js';
export {
  readApplied,
  recordApplied,
  type Applied,
  HostStateSchema,
  readHostStates,
  recordHostStates,
  stateDir,
  type BackupSeen,
  type HostState,
  type HostStatePatch,
  type LayerRun,
} from './model/state.js';
export { acquireLabLock, holderGone, lockFile, type LabLock, type LockHolder } from './model/lock.js';
export { writeFileAtomic, writeJsonAtomic } from './atomic-file.js';
export { sha256, treeDigest } from './digest.js';
export { nodeShell, shellQuote, type NodeShell } from './node-shell.js';
export { forgetHostKeys, hostsWrap, knownHostsFile, labFile, sshUser } from './reach.js';
export { yamlLib } from './yaml.js';
