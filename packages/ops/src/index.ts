/*
 * @ahl/ops: the workflows that compose the layers. Each returns a result (or a plan) and writes
 * nothing to a terminal; `ahl` (packages/cli) parses arguments, calls these and renders the results
 * with its views. Every layer may be imported here; no layer imports this package.
 */
export * from './diff.js';
export * from './drift.js';
export * from './git-lab.js';
export * from './graph.js';
export * from './intent.js';
export * from './layers.js';
export * from './power.js';
export * from './rebuild.js';
export * from './reconcile.js';
export * from './reconcile-run.js';
export * from './render.js';
export * from './status.js';
export * from './up.js';
export * from './time.js';
export * from './rebuild-run.js';
export * from './up-run.js';
export * from './l2-text.js';
export * from './records.js';
export * from './drift-run.js';
export * from './output-schemas.js';
