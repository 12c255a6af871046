import { describe, expect, it } from 'vitest';
import { encodeParams, normaliseFingerprint, parseUpid } from '../src/index.js';

describe('Proxmox helpers', () => {
  it('encodes parameters as PVE reads them', () => {
    expect(encodeParams({ b: true, a: false, list: ['x', 'y'], skip: undefined, n: 3, s: 'a b' }).toString()).toBe('a=0&b=1&list=x&list=y&n=3&s=a+b');
  });

  it('parses task ids', () => {
    expect(parseUpid('UPID:pve1:0000C530:0015A3F1:66B2C6E2:qmclone:9000:ahl@pve!ahl:')).toEqual({
      node: 'pve1',
      type: 'qmclone',
      id: '9000',
      user: 'ahl@pve!ahl',
      upid: 'UPID:pve1:0000C530:0015A3F1:66B2C6E2:qmclone:9000:ahl@pve!ahl:',
    });
    expect(() => parseUpid('nope')).toThrow('not a task id: nope');
  });

  it('normalises fingerprints written in any common form', () => {
    expect(normaliseFingerprint('ab:cd:ef')).toBe('AB:CD:EF');
    expect(normaliseFingerprint('abcdef')).toBe('AB:CD:EF');
  });
});
