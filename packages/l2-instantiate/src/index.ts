/** What this layer is, as the layer contract (@ahl/core's LayerContract). */
export { layer } from './layer.js';

export { parseDrive, passthroughOptions, passthroughValue, planPassthrough, qmSetLine, type PassthroughAction } from './passthrough.js';
export { convergePassthrough, passthroughHosts, type PassthroughHostResult, type PassthroughRun } from './passthrough-run.js';
export {
  BPG_PROVIDER,
  hostAddress,
  PLAN_FILE,
  renderTerraform,
  terraformLiteral,
  resourceName,
  terraformDir,
  VM_RESOURCE,
  type AdoptedVm,
  type ExistingVm,
  type RenderOptions,
  type RenderedHost,
  type RenderedModule,
  type UnresolvedHost,
} from './render.js';
export { diffValues, parseUiLine, summarisePlan, type AttributeChange, type DiskResize, type HostAction, type HostPlan, type PlanSummary, type TfDiagnostic, type TfPlanJson, type TfUiEvent } from './plan.js';
export {
  applyPlan,
  channelTemplates,
  findTerraform,
  planHosts,
  prepareWorkspace,
  providerMirror,
  terraformEnv,
  type AppliedHost,
  type L2Apply,
  type L2Plan,
  type TerraformOptions,
  type Workspace,
} from './terraform.js';
export { openPlanDir, type PlanDir } from './plan-dir.js';
export { runL2, type L2Outcome, type L2RunOptions } from './run.js';
