import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { prerequisites } from '../../../test-support/prerequisites.js';
import { IMPLEMENTED_ENDPOINTS } from '../src/index.js';
import { APIDOC_SUBSET } from '../src/generated/apidoc-subset.js';
import { checkFormat, parsePropertyString, validateParams } from '../src/schema/validate.js';
import { formatSize, parseSize } from '../src/schema/formats.js';
import { printOption } from '../src/model/qemu-config.js';
// @ts-expect-error -- plain ESM script without types
import { DEFAULT_APIDOC, ENDPOINTS, OUTPUT, generate } from '../scripts/gen-schema.mjs';

// The reference apidoc is not in the repository: it lives beside it, at <repo>/../shared/reference/
// (in CI too, where the clone has a copy of shared/ beside it).
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const APIDOC = resolve(REPO, '../shared/reference/pve-apidoc.json');

describe('generated schema subset', () => {
  it('the generator reads the reference apidoc from <repo>/../shared/reference/', () => {
    expect(DEFAULT_APIDOC).toBe(APIDOC);
  });

  prerequisites([!existsSync(APIDOC) && `the reference apidoc at ${APIDOC} (shared/reference/pve-apidoc.json beside the clone)`]).it(
    'matches what scripts/gen-schema.mjs produces from the reference apidoc',
    () => {
      const tree = JSON.parse(readFileSync(APIDOC, 'utf8')) as unknown;
      expect(readFileSync(OUTPUT as string, 'utf8')).toBe((generate as (t: unknown) => string)(tree));
    },
  );

  it('covers exactly the endpoints the router serves', () => {
    expect([...(ENDPOINTS as string[])].sort()).toEqual([...IMPLEMENTED_ENDPOINTS]);
    expect(Object.keys(APIDOC_SUBSET).sort()).toEqual([...IMPLEMENTED_ENDPOINTS]);
  });
});

describe('validator (PVE::JSONSchema port)', () => {
  const create = APIDOC_SUBSET['POST /nodes/{node}/qemu']!.parameters;

  it('checks types, ranges, enums, formats, families and unknown keys', () => {
    expect(
      validateParams(create, {
        node: 'pve1',
        vmid: '99',
        sockets: '1.5',
        balloon: '-1',
        ostype: 'dos',
        name: 'bad_name',
        net32: 'virtio',
        scsi31: 'local:1',
        sshkeys: 'ssh-ed25519 AAAA',
        tags: 'ok;fine',
      }),
    ).toEqual({
      vmid: 'invalid format - value does not look like a valid VM ID\n',
      sockets: "type check ('integer') failed - got '1.5'",
      balloon: 'value must have a minimum value of 0',
      ostype: "value 'dos' does not have a value in the enumeration 'other, wxp, w2k, w2k3, w2k8, wvista, win7, win8, win10, win11, l24, l26, solaris'",
      name: 'invalid format - value does not look like a valid DNS name\n',
      net32: 'property is not defined in schema and the schema does not allow additional properties',
      scsi31: 'property is not defined in schema and the schema does not allow additional properties',
      sshkeys: 'invalid format - invalid urlencoded string: ssh-ed25519 AAAA\n',
    });
  });

  it('reports missing required properties and `requires`', () => {
    const dl = APIDOC_SUBSET['POST /nodes/{node}/storage/{storage}/download-url']!.parameters;
    expect(validateParams(dl, { node: 'pve1', storage: 'local', checksum: 'x' })).toEqual({
      url: 'property is missing and it is not optional',
      content: 'property is missing and it is not optional',
      filename: 'property is missing and it is not optional',
      'checksum-algorithm': "missing property - 'checksum' requires this property",
    });
  });

  it('accepts JSON booleans and numbers', () => {
    expect(validateParams(create, { node: 'pve1', vmid: 100, onboot: true, cores: 2 })).toEqual({});
    expect(validateParams(create, { node: 'pve1', vmid: 100, cores: [1] })).toEqual({ cores: "type check ('integer') failed - got ARRAY" });
  });

  it('parses property strings with default keys, aliases and key aliases', () => {
    const netFormat = (create.properties!['net[n]']!.format as Record<string, never>);
    expect(parsePropertyString(netFormat, 'virtio=BC:24:11:AA:BB:CC,bridge=vmbr0,firewall=on')).toEqual({
      model: 'virtio',
      macaddr: 'BC:24:11:AA:BB:CC',
      bridge: 'vmbr0',
      firewall: '1',
    });
    expect(() => checkFormat('pve-qm-ipconfig', 'ip=10.0.0.5/24,gw=10.0.0.1', 'ipconfig0')).not.toThrow();
    expect(() => checkFormat('pve-qm-ipconfig', 'ip=10.0.0.5', 'ipconfig0')).toThrow('format error');
  });

  it('prints property strings in PVE order and sizes like format_size', () => {
    expect(printOption('scsi0', { size: '32G', iothread: '1', file: 'local-lvm:vm-100-disk-0', discard: 'on' })).toBe('local-lvm:vm-100-disk-0,discard=on,iothread=1,size=32G');
    expect(printOption('net0', { bridge: 'vmbr0', model: 'virtio', macaddr: 'BC:24:11:3F:A2:91', firewall: '1' })).toBe('virtio=BC:24:11:3F:A2:91,bridge=vmbr0,firewall=1');
    expect(formatSize(2 * 1024 ** 3)).toBe('2G');
    expect(formatSize(1536 * 1024 ** 2)).toBe('1536M');
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3);
  });
});
