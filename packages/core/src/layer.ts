import type { Host, Lab } from './model/lab.js';
import type { TemplateManifest } from './model/templates.js';

/*
 * The layer contract: every layer package (L0 runway … L4 workload) exports one `layer` of this
 * shape, so `@ahl/ops` walks the layers instead of special-casing each: which hosts a layer acts
 * on, what it hands its engine (rendered from the repository alone, for `ahl render` and review),
 * the digest of what it converges onto a host (recorded with each run, so drift can tell an
 * intent change from a hand-made one), and its runner.
 */

export type LayerId = 'L0' | 'L1' | 'L2' | 'L3' | 'L4';

/** What rendering needs beyond the lab that lives on disk: the template each channel points at, each stack's files. */
export interface RenderFacts {
  readonly templates: Readonly<Record<string, TemplateManifest | undefined>>;
  /** Stack name → file name → content (hidden files and `.env` left out, as L4 never copies them). */
  readonly stackFiles: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Where the L4 content writes its per-run report, as rendered for review: a folder made for each run, named by a stand-in. */
export const RUN_DIR_PLACEHOLDER = '<run>';

export interface LayerArtifacts {
  /** Path (under the layer's folder) → content. */
  readonly files: Readonly<Record<string, string>>;
  /** Hosts the layer cannot render yet: their template channel names no built version. */
  readonly unresolved?: readonly { readonly host: string; readonly template: string }[];
}

export interface LayerContract<RunOptions = unknown, RunResult = unknown> {
  readonly id: LayerId;
  readonly name: string;
  /** The tool the layer drives. */
  readonly engine: string;
  /** The hosts of the lab this layer acts on. */
  hosts(lab: Lab): readonly Host[];
  /** What the layer hands its engine, from the repository and its facts alone: no API, secret or host. Pure. */
  render(lab: Lab, facts: RenderFacts): LayerArtifacts;
  /** The digest of what the layer converges onto `host`; absent when the layer keeps no per-host intent. */
  intentDigest?(lab: Lab, host: Host): Promise<string>;
  /** The layer's runner. */
  run(lab: Lab, o: RunOptions): Promise<RunResult>;
}
