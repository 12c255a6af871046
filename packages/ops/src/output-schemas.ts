import { z } from 'zod';
import type { DriftReport } from './drift.js';
import type { StatusReport } from './status.js';

/*
 * What `ahl status --json` and `ahl drift --json` print, as zod schemas: `ahl schema status` and
 * `ahl schema drift` give them as JSON Schema (packages/ops/schemas/ holds the published copies), and
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

/** The `--json` outputs that have a schema, by the command that prints them. */
export const OUTPUT_SCHEMAS = { status: StatusReportSchema, drift: DriftReportSchema } as const;
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
const sameShape: [Same<z.output<typeof StatusReportSchema>, StatusReport>, Same<z.output<typeof DriftReportSchema>, DriftReport>] = [true, true];
void sameShape;
