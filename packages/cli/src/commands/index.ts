import type { CommandDef } from '../command.js';
import {
  imageBuildCommand,
  imageCaptureCommand,
  imageListCommand,
  imagePromoteCommand,
  imagePruneCommand,
  imageRestoreCaptureCommand,
  imageRollbackCommand,
  imageSeedCommand,
} from './image.js';
import { convergeSystemCommand } from './converge.js';
import { applyCommand, destroyCommand } from './instances.js';
import { labDownCommand, labStatusCommand, labUpCommand } from './lab.js';
import { diffCommand, driftCommand, graphCommand, powerCommand, statusCommand } from './ops.js';
import { passthroughCommand } from './passthrough.js';
import { rebuildCommand } from './rebuild.js';
import { reconcileCommand } from './reconcile.js';
import { renderCommand } from './render.js';
import { runwayCommand } from './runway.js';
import { schemaCommand } from './schema.js';
import { planCommand, upCommand } from './up.js';
import { validateCommand } from './validate.js';
import { backupCommand, convergeWorkloadCommand, restoreCommand } from './workload.js';

/** Every command, in the order `ahl --help` lists them. */
export const COMMANDS: readonly CommandDef[] = [
  validateCommand,
  upCommand,
  planCommand,
  runwayCommand,
  applyCommand,
  destroyCommand,
  rebuildCommand,
  imageBuildCommand,
  imagePromoteCommand,
  imageRollbackCommand,
  imageListCommand,
  imagePruneCommand,
  imageCaptureCommand,
  imageRestoreCaptureCommand,
  imageSeedCommand,
  passthroughCommand,
  convergeSystemCommand,
  convergeWorkloadCommand,
  backupCommand,
  restoreCommand,
  statusCommand,
  driftCommand,
  reconcileCommand,
  graphCommand,
  diffCommand,
  renderCommand,
  powerCommand,
  labUpCommand,
  labStatusCommand,
  labDownCommand,
  schemaCommand,
];
