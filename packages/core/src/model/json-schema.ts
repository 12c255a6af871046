import { z } from 'zod';
import { ImageSchema, LabLocalSchema, LabSchema, PersonaSchema } from './schema.js';

export const SCHEMA_FILES = {
  lab: 'lab.schema.json',
  image: 'image.schema.json',
  persona: 'persona.schema.json',
  local: 'lab-local.schema.json',
} as const;

export type SchemaName = keyof typeof SCHEMA_FILES;

const SCHEMAS: Record<SchemaName, z.ZodType> = { lab: LabSchema, image: ImageSchema, persona: PersonaSchema, local: LabLocalSchema };

/** The JSON Schema (draft 2020-12) of one lab file kind, describing what may be written (defaults optional). */
export function jsonSchema(name: SchemaName): Record<string, unknown> {
  return { ...z.toJSONSchema(SCHEMAS[name], { io: 'input', unrepresentable: 'any' }), $id: `https://ahl.dev/schemas/${SCHEMA_FILES[name]}` };
}

/** Every schema as the file name → pretty JSON text committed under schemas/. */
export function jsonSchemaFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(SCHEMA_FILES) as SchemaName[]) out[SCHEMA_FILES[name]] = `${JSON.stringify(jsonSchema(name), null, 2)}\n`;
  return out;
}
