#!/usr/bin/env node
// Generates src/generated/apidoc-subset.ts: the parameter schemas and permission
// rules of the endpoints pve-sim implements, taken unchanged (minus prose) from
// the official PVE API schema. Usage:
//   node scripts/gen-schema.mjs [--apidoc <path>] [--check]
// Default apidoc path: <repo root>/../shared/reference/pve-apidoc.json.
// --check exits 1 when the committed file differs from what would be generated.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkgRoot = resolve(here, '..');
const repoRoot = resolve(pkgRoot, '../..');
export const DEFAULT_APIDOC = resolve(repoRoot, '../shared/reference/pve-apidoc.json');
export const OUTPUT = resolve(pkgRoot, 'src/generated/apidoc-subset.ts');

/** The operations pve-sim implements; the router must serve exactly these. */
export const ENDPOINTS = [
  'GET /version',
  'POST /access/ticket',
  'GET /access/permissions',
  'GET /access/users',
  'GET /access/users/{userid}/token',
  'POST /access/users/{userid}/token/{tokenid}',
  'DELETE /access/users/{userid}/token/{tokenid}',
  'GET /access/roles',
  'GET /access/acl',
  'PUT /access/acl',
  'GET /cluster/resources',
  'GET /cluster/nextid',
  'GET /cluster/status',
  'GET /pools',
  'POST /pools',
  'GET /pools/{poolid}',
  'DELETE /pools/{poolid}',
  'GET /storage',
  'GET /storage/{storage}',
  'GET /nodes',
  'GET /nodes/{node}/status',
  'GET /nodes/{node}/network',
  'GET /nodes/{node}/disks/list',
  'GET /nodes/{node}/query-url-metadata',
  'GET /nodes/{node}/tasks',
  'GET /nodes/{node}/tasks/{upid}/status',
  'GET /nodes/{node}/tasks/{upid}/log',
  'DELETE /nodes/{node}/tasks/{upid}',
  'GET /nodes/{node}/storage',
  'GET /nodes/{node}/storage/{storage}/status',
  'GET /nodes/{node}/storage/{storage}/content',
  'GET /nodes/{node}/storage/{storage}/content/{volume}',
  'DELETE /nodes/{node}/storage/{storage}/content/{volume}',
  'POST /nodes/{node}/storage/{storage}/download-url',
  'POST /nodes/{node}/vzdump',
  'GET /nodes/{node}/qemu',
  'POST /nodes/{node}/qemu',
  'DELETE /nodes/{node}/qemu/{vmid}',
  'GET /nodes/{node}/qemu/{vmid}/config',
  'POST /nodes/{node}/qemu/{vmid}/config',
  'PUT /nodes/{node}/qemu/{vmid}/config',
  'GET /nodes/{node}/qemu/{vmid}/pending',
  'POST /nodes/{node}/qemu/{vmid}/clone',
  'PUT /nodes/{node}/qemu/{vmid}/resize',
  'POST /nodes/{node}/qemu/{vmid}/template',
  'POST /nodes/{node}/qemu/{vmid}/move_disk',
  'GET /nodes/{node}/qemu/{vmid}/status/current',
  'POST /nodes/{node}/qemu/{vmid}/status/start',
  'POST /nodes/{node}/qemu/{vmid}/status/stop',
  'POST /nodes/{node}/qemu/{vmid}/status/shutdown',
  'POST /nodes/{node}/qemu/{vmid}/status/reboot',
  'POST /nodes/{node}/qemu/{vmid}/status/reset',
  'GET /nodes/{node}/qemu/{vmid}/cloudinit/dump',
  'POST /nodes/{node}/qemu/{vmid}/agent/ping',
  'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces',
];

// Prose and viewer-only keys; everything else of a parameter schema is kept.
const DROP = new Set(['description', 'verbose_description', 'typetext', 'format_description', 'title']);

/** Strips prose from a schema; `properties` and object `format`s map names to schemas. */
function stripSchema(schema) {
  if (Array.isArray(schema)) return schema.map(stripSchema);
  if (!schema || typeof schema !== 'object') return schema;
  const out = {};
  for (const key of Object.keys(schema).sort()) {
    if (DROP.has(key)) continue;
    const value = schema[key];
    if ((key === 'properties' || key === 'format') && value && typeof value === 'object') out[key] = stripMap(value);
    else out[key] = stripSchema(value);
  }
  return out;
}

function stripMap(map) {
  const out = {};
  for (const name of Object.keys(map).sort()) out[name] = stripSchema(map[name]);
  return out;
}

function indexApidoc(tree) {
  const ops = new Map();
  const walk = (nodes) => {
    for (const node of nodes) {
      for (const [method, info] of Object.entries(node.info ?? {})) ops.set(`${method} ${node.path}`, info);
      if (node.children) walk(node.children);
    }
  };
  walk(tree);
  return ops;
}

/** Pure: apidoc tree → the text of the generated module. */
export function generate(tree) {
  const ops = indexApidoc(tree);
  const subset = {};
  for (const key of [...ENDPOINTS].sort()) {
    const info = ops.get(key);
    if (!info) throw new Error(`endpoint not in apidoc: ${key}`);
    const permissions = info.permissions ? { ...info.permissions } : undefined;
    if (permissions) delete permissions.description;
    subset[key] = stripSchema({
      name: info.name,
      allowtoken: info.allowtoken ?? 1,
      protected: info.protected ?? 0,
      proxyto: info.proxyto,
      permissions,
      parameters: info.parameters ?? { additionalProperties: 0, properties: {} },
      returns: { type: info.returns?.type ?? 'null' },
    });
  }
  return (
    '// Generated by scripts/gen-schema.mjs from the PVE 9.1 API schema (pve-apidoc.json).\n' +
    '// Do not edit by hand: run `pnpm --filter @ahl/pve-sim gen-schema`.\n' +
    "import type { ApiSubset } from '../schema/types.js';\n\n" +
    `export const APIDOC_SUBSET: ApiSubset = ${JSON.stringify(subset, null, 1)};\n`
  );
}

function main(argv) {
  let apidoc = DEFAULT_APIDOC;
  const i = argv.indexOf('--apidoc');
  if (i >= 0 && argv[i + 1]) apidoc = resolve(argv[i + 1]);
  if (!existsSync(apidoc)) {
    process.stderr.write(`pve-apidoc.json not found at ${apidoc}\n`);
    process.exit(2);
  }
  const text = generate(JSON.parse(readFileSync(apidoc, 'utf8')));
  if (argv.includes('--check')) {
    const current = existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(`${OUTPUT} is stale; run scripts/gen-schema.mjs\n`);
      process.exit(1);
    }
    return;
  }
  writeFileSync(OUTPUT, text);
  process.stdout.write(`wrote ${OUTPUT} (${ENDPOINTS.length} operations)\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
