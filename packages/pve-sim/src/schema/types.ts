/** A parameter schema as PVE's JSONSchema.pm understands it (0/1 for booleans). */
export interface ParamSchema {
  type?: string;
  optional?: number;
  format?: string | Record<string, ParamSchema>;
  pattern?: string;
  enum?: string[] | null;
  minimum?: number | string;
  maximum?: number | string;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  default_key?: number;
  alias?: string;
  keyAlias?: string;
  requires?: string;
  items?: ParamSchema;
  properties?: Record<string, ParamSchema>;
  additionalProperties?: number | ParamSchema;
  [key: string]: unknown;
}

/** A permission rule as written in the apidoc (`check` arrays are nested tuples). */
export interface PermissionRule {
  check?: unknown[];
  user?: 'all' | 'world';
}

export interface EndpointSchema {
  name: string;
  allowtoken: number;
  protected: number;
  proxyto?: string;
  permissions?: PermissionRule;
  parameters: ParamSchema;
  returns: { type: string };
}

/** Keyed by `METHOD /path/{param}`. */
export type ApiSubset = Record<string, EndpointSchema>;
