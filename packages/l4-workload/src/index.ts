/** What this layer is, as the layer contract (@ahl/core's LayerContract). */
export { layer } from './layer.js';
export { workloadIntent } from './digest.js';

export { BACKUP_TARGET_HOST, PLAYBOOKS, WORKLOAD_ANSIBLE_DIR, type WorkloadOperation } from './content.js';
export { backsUp, selectWorkloadHosts, workloadHosts } from './targets.js';
export { backupPaths, quiescedStacks, renderEnvFile, renderWorkloadInventory, stackFileList, workloadHostVars, type InventoryFiles, type StackFile, type WorkloadInventoryInput } from './inventory.js';
export { workloadAnsibleEnv, workloadPlaybookArgv, type WorkloadInvocation } from './command.js';
export {
  durationMs,
  freshness,
  lastJsonLine,
  parseDeployReport,
  parseScriptReport,
  parseStatusOutput,
  type BackupRecord,
  type DeployReport,
  type Freshness,
  type RestoreRecord,
  type ScriptReport,
  type StackReport,
} from './records.js';
export {
  backupNow,
  backupStatus,
  deployWorkloads,
  restoreWorkloads,
  type BackupResult,
  type DeployOptions,
  type DeployResult,
  type HostBackupResult,
  type HostBackupStatus,
  type HostDeployResult,
  type HostRestoreResult,
  type RestoreOptions,
  type RestoreResult,
  type WorkloadRunOptions,
} from './runner.js';
