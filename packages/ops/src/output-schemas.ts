import { z } from 'zod';
import type { DriftReport } from './drift.js';
import type { RebuildPlan, RebuildRecord } from './rebuild.js';
import type { StatusReport } from './status.js';
import type { UpRun } from './up-run.js';

/*
 * What `ahl status`, `drift`, `up` (and `plan`) and `rebuild` print with --json, as zod schemas:
 * `ahl schema status` (and so on) gives them as JSON Schema (packages/ops/schemas/ holds the published copies), and
 * the tests validate the commands' real output against them. The type checks at the end keep each
 * schema and the TypeScript type the workflow returns the same shape.
 */

const seen = z
  .strictObject({
    status: z.enum(['ok', 'changed', 'failed', 'unreachable']),
    at: z.string().describe('ISO 8601 time of the run or check'),
    ageMs: z.number().describe('milliseconds between it and the report'),
    changed: z.array(z.string()).readonly().describe('the tasks that changed (or would change)'),
  })
  .readonly();

export const StatusReportSchema = z
  .strictObject({
    lab: z.string(),
    at: z.string().describe('ISO 8601 time of the report'),
    calls: z.number().int().describe('Proxmox API calls made'),
    api: z.strictObject({ ok: z.boolean(), error: z.string().optional() }).readonly(),
    hosts: z
      .array(
        z
          .strictObject({
            host: z.string(),
            persona: z.string(),
            runtime: z.enum(['vm', 'baremetal']),
            node: z.string().optional().describe('the node intent places the VM on; absent for bare metal'),
            layers: z.strictObject({ system: z.boolean(), workload: z.boolean() }).readonly().describe('which of L3 and L4 manage the host'),
            vm: z.strictObject({ vmid: z.number().int(), node: z.string(), power: z.string() }).readonly().optional().describe('the VM on the server; absent when missing'),
            template: z
              .strictObject({
                ref: z.string(),
                version: z.string().optional().describe('the template version the VM was cloned from, when known'),
                channelVersion: z.string().optional().describe('the version the host\'s channel points at now'),
                state: z.enum(['current', 'behind', 'unknown', 'unbuilt']),
              })
              .readonly()
              .optional(),
            system: seen.optional(),
            workload: seen.optional(),
            systemCheck: seen.optional().describe('the last --check of L3'),
            workloadCheck: seen.optional().describe('the last --check of L4'),
            backup: z
              .strictObject({ maxAge: z.string(), fresh: z.boolean(), ageMs: z.number().optional(), id: z.string().optional(), seenAt: z.string().optional(), failed: z.string().optional() })
              .readonly()
              .optional()
              .describe('present for hosts with data to back up'),
            drift: z.array(z.enum(['missing', 'node', 'template', 'system', 'workload', 'backup'])).readonly(),
          })
          .readonly(),
      )
      .readonly(),
    unmanaged: z
      .array(z.strictObject({ vmid: z.number().int(), name: z.string(), node: z.string(), power: z.string() }).readonly())
      .readonly()
      .describe('guests tagged ahl that no host of the lab declares'),
  })
  .readonly()
  .describe('`ahl status --json`: every host of the lab from one Proxmox API call and what this machine remembers');

const layer = z.enum(['L1', 'L2', 'L3', 'L4']);

export const DriftReportSchema = z
  .strictObject({
    at: z.string().describe('ISO 8601 time of the report'),
    layers: z
      .array(
        z
          .strictObject({
            layer,
            name: z.string(),
            checked: z.boolean(),
            why: z.string().optional().describe('why the layer was not checked'),
            partial: z.string().optional().describe('what a checked layer did not look at'),
            hosts: z.array(z.string()).readonly(),
            unchecked: z.array(z.strictObject({ host: z.string(), reason: z.string() }).readonly()).readonly().describe('hosts that could not be checked, with the reason'),
          })
          .readonly(),
      )
      .readonly(),
    findings: z
      .array(
        z
          .strictObject({
            layer,
            host: z.string(),
            cause: z.enum(['changed outside ahl', 'intent changed', 'template moved', 'never converged here']),
            what: z.array(z.string()).readonly().describe('what differs: changed tasks, attributes or template versions'),
            reconcile: z.string().describe('the command that reconciles it'),
            terraform: z.enum(['update', 'replace', 'adopt']).optional().describe('for an L2 finding from Terraform\'s plan: what applying it does to the VM'),
          })
          .readonly(),
      )
      .readonly(),
    clean: z.boolean().describe('no drift, and every selected host checked'),
  })
  .readonly()
  .describe('`ahl drift --json`: what differs from intent, per layer and host, with its cause and the command that reconciles it');

const upLayer = z.enum(['L0', 'L1', 'L2', 'L3', 'L4']);

export const UpRunSchema = z
  .strictObject({
    approved: z.boolean().describe('false for `ahl plan` and `ahl up` without --approve: nothing was changed'),
    ok: z.boolean().describe('no layer failed or was blocked (and, approved, none was left not run)'),
    layers: z
      .array(
        z
          .strictObject({
            layer: upLayer,
            name: z.string(),
            state: z.enum(['done', 'ok', 'planned', 'failed', 'blocked', 'not run']),
            items: z.array(z.string()).readonly().describe('one line per thing the layer did or would do'),
            note: z.string().optional().describe('why it failed or is blocked, and what to do'),
          })
          .readonly(),
      )
      .readonly(),
  })
  .readonly()
  .describe('`ahl up --json` and `ahl plan --json`: each layer in order, what it did or would do');

const phase = z.enum(['backup', 'recreate', 'system', 'restore', 'workload']);
const snapshot = z.strictObject({ id: z.string(), time: z.string(), size: z.number().optional(), digest: z.string().optional() }).readonly();

const RebuildRecordSchema = z.strictObject({
  host: z.string(),
  startedAt: z.string(),
  snapshot: snapshot.optional().describe('the backup the data comes back from'),
  template: z.string().describe('the template version the VM is recreated from'),
  done: z.array(phase),
  took: z.partialRecord(phase, z.number()).optional().describe('milliseconds each phase ran'),
  failed: z.strictObject({ phase, message: z.string(), at: z.string() }).readonly().optional().describe('the phase to resume from, and why it stopped'),
  finishedAt: z.string().optional(),
});

const RebuildPlanSchema = z
  .strictObject({
    host: z.string(),
    vm: z.strictObject({ vmid: z.number().int(), node: z.string(), power: z.string() }).readonly().optional().describe('the VM destroyed, when it exists'),
    template: z.strictObject({ ref: z.string(), version: z.string() }).readonly(),
    data: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('none') }).readonly(),
      z.strictObject({ kind: z.literal('fresh'), snapshot, paths: z.array(z.string()).readonly() }).readonly(),
      z.strictObject({ kind: z.literal('take'), why: z.string(), paths: z.array(z.string()).readonly() }).readonly(),
    ]),
    phases: z.array(z.strictObject({ phase, what: z.string(), done: z.boolean() }).readonly()).readonly(),
  })
  .readonly();

export const RebuildOutputSchema = z
  .union([
    z.strictObject({ approved: z.literal(false), plan: RebuildPlanSchema }).readonly(),
    z.strictObject({ approved: z.literal(true), ok: z.boolean(), record: RebuildRecordSchema }).readonly(),
  ])
  .describe('`ahl rebuild HOST --json`: the plan (without --approve), or the rebuild\'s record (with it)');

/** The `--json` outputs that have a schema, by the command that prints them. */
export const OUTPUT_SCHEMAS = { status: StatusReportSchema, drift: DriftReportSchema, up: UpRunSchema, rebuild: RebuildOutputSchema } as const;
export type OutputSchemaName = keyof typeof OUTPUT_SCHEMAS;

/** The JSON Schema (draft 2020-12) of a command's `--json` output. */
export function outputJsonSchema(name: OutputSchemaName): Record<string, unknown> {
  // `.readonly()` keeps the TypeScript types readonly; it says nothing to a reader of the JSON.
  const schema = z.toJSONSchema(OUTPUT_SCHEMAS[name], { io: 'output', override: (c) => void delete (c.jsonSchema as { readOnly?: boolean }).readOnly });
  return { ...schema, $id: `https://ahl.dev/schemas/${outputSchemaFile(name)}` };
}

/** The published file name of a command's output schema, and its text. */
export const outputSchemaFile = (name: OutputSchemaName) => `${name}.output.schema.json`;
export const outputSchemaText = (name: OutputSchemaName) => `${JSON.stringify(outputJsonSchema(name), null, 2)}\n`;

// Each schema has the type its workflow returns: the compiler checks the fields both have, and the
// tests (strict objects) fail on a field the output has and the schema does not.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: [
  Same<z.output<typeof StatusReportSchema>, StatusReport>,
  Same<z.output<typeof DriftReportSchema>, DriftReport>,
  Same<z.output<typeof UpRunSchema>, UpRun>,
  Same<z.output<typeof RebuildPlanSchema>, RebuildPlan>,
  Same<z.output<typeof RebuildRecordSchema>, RebuildRecord>,
] = [true, true, true, true, true];
void sameShape;
