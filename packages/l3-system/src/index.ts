/** What this layer is, as the layer contract (@ahl/core's LayerContract). */
export { layer } from './layer.js';

export { ANSIBLE_DIR, SYSTEM_TAGS, systemTags, type SystemTag } from './content.js';
export { systemDigest } from './digest.js';
export { selectHosts, systemHosts } from './targets.js';
export { groupName, hostVars, inventoryYaml, labRoleNames, osFamily, renderInventory, sshCommonArgs, type InventoryFiles, type InventoryOptions } from './inventory.js';
export { ansibleGalaxyArgv, requirementSources, type RequirementSource } from './requirements.js';
export { ansibleEnv, ansiblePlaybookArgv, commandLine, type PlaybookInvocation } from './command.js';
export {
  parseEventLine,
  parseEventLines,
  summarizeEvents,
  type AnsibleEvent,
  type AnsibleHostStats,
  type HostConvergeResult,
  type HostStatus,
  type TaskStatus,
} from './events.js';
export { acceptNewSshWrapper, chooseStrategy, mitogenPluginDir, SSH_WRAPPER, type AnsibleStrategy } from './strategy.js';
export { ConvergeError, isConvergeError, type ConvergeErrorCode } from './errors.js';
export {
  collectPlaybookEvents,
  convergeSystem,
  definedEnv,
  execaPlaybookSpawner,
  findAnsiblePlaybook,
  pendingReboots,
  PLAYBOOK_COMPLETED,
  runSettings,
  type ConvergeOptions,
  type ConvergeResult,
  type PendingReboot,
  type PlaybookOptions,
  type PlaybookSpawner,
} from './runner.js';
