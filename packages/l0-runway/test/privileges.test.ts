import { describe, expect, it } from 'vitest';
import { hasPrivilege } from '../src/index.js';

describe('hasPrivilege', () => {
  const perms = { '/': { 'Sys.Audit': 1, 'VM.Audit': 0 }, '/vms': { 'VM.Allocate': 1 }, '/storage/local': { 'Datastore.Audit': 0 } };
  it.each([
    ['/', 'Sys.Audit', true],
    ['/nodes/pve1', 'Sys.Audit', true],
    ['/', 'VM.Audit', true],
    ['/nodes/pve1', 'VM.Audit', false],
    ['/vms/101', 'VM.Allocate', true],
    ['/vms/101', 'Sys.Audit', false],
    ['/storage/local', 'Datastore.Audit', true],
    ['/storage/local/sub', 'Datastore.Audit', false],
    ['/storage/other', 'Sys.Audit', true],
  ])('%s %s → %s', (path, priv, expected) => expect(hasPrivilege(perms, path, priv)).toBe(expected));
});
