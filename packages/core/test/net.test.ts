import { describe, expect, it } from 'vitest';
import { inSubnet, isIpv4, lastUsable, parseIpv4Cidr } from '../src/index.js';

describe('IPv4', () => {
  it.each([
    ['192.168.1.1', true],
    ['0.0.0.0', true],
    ['255.255.255.255', true],
    ['256.1.1.1', false],
    ['1.2.3', false],
    ['01.2.3.4', false],
    ['a.b.c.d', false],
  ])('isIpv4(%s) = %s', (ip, ok) => expect(isIpv4(ip)).toBe(ok));

  it('parses CIDRs and checks subnets', () => {
    const c = parseIpv4Cidr('10.20.30.40/20')!;
    expect(c).toEqual({ address: '10.20.30.40', prefix: 20, cidr: '10.20.30.40/20' });
    expect(inSubnet('10.20.16.1', c)).toBe(true);
    expect(inSubnet('10.20.31.254', c)).toBe(true);
    expect(inSubnet('10.20.32.1', c)).toBe(false);
    expect(parseIpv4Cidr('10.0.0.1/33')).toBeUndefined();
    expect(parseIpv4Cidr('10.0.0.1')).toBeUndefined();
    expect(inSubnet('1.2.3.4', parseIpv4Cidr('9.9.9.9/0')!)).toBe(true);
  });

  it.each([
    ['10.79.1.12/24', '10.79.1.254'],
    ['10.20.30.40/20', '10.20.31.254'],
    ['192.168.1.5/30', '192.168.1.6'],
    ['9.9.9.9/0', '255.255.255.254'],
  ])('lastUsable(%s) = %s', (cidr, last) => expect(lastUsable(parseIpv4Cidr(cidr)!)).toBe(last));
});
