/** What this layer is, as the layer contract (@ahl/core's LayerContract). */
export { layer } from './layer.js';
export { runwayRequirements, type ContentType, type NodeRequirements, type RunwayRequirements } from './requirements.js';
export { hasPrivilege, minimalRole, missingPrivileges, privilegeNeeds, type Layer, type MissingPrivilege, type PermissionMap, type PrivilegeNeed } from './privileges.js';
export { gatherFacts, isManaged, type GuestFact, type InterfaceFact, type RunwayFacts, type ShellFact, type StorageFact } from './facts.js';
export { MIN_PVE_VERSION, planRunway, shellNodes, type CheckStatus, type RunwayCheck, type RunwayReport } from './checks.js';
export { runRunway, shellFact } from './run.js';
export { renderRunway, runwayArtifact, type Colour } from './render.js';
