import { describe, expect, it } from 'vitest';
import { checkCompose, interpolate, publishedPorts } from '../src/index.js';

describe('compose checks', () => {
  it('interpolates like Compose, and says when a value is only known at deploy time', () => {
    expect(interpolate('${A}:${B:-80}:$C/${D-udp}', { A: '1', C: '3' })).toBe('1:80:3/udp');
    expect(interpolate('${A:-x}${A-y}', { A: '' })).toBe('x');
    expect(interpolate('$$A', {})).toBe('$A');
    expect(interpolate('${SECRET}:80', {})).toBeUndefined();
  });

  it('expands published ports and rejects malformed ones', () => {
    expect(publishedPorts('8080:80')).toEqual([{ address: '', port: 8080, protocol: 'tcp' }]);
    expect(publishedPorts('127.0.0.1:53:53/udp')).toEqual([{ address: '127.0.0.1', port: 53, protocol: 'udp' }]);
    expect(publishedPorts('0.0.0.0:9000-9001:9000-9001')).toHaveLength(2);
    expect(publishedPorts('80')).toEqual([]);
    expect(publishedPorts('80:80:80')).toBeUndefined();
    expect(publishedPorts('70000:80')).toBeUndefined();
    expect(publishedPorts('80:80/icmp')).toBeUndefined();
  });

  it('lists services and ports, long syntax included', () => {
    const s = checkCompose({ path: 'stacks/a/compose.yaml', text: 'services:\n  b: {image: x, ports: [{target: 80, published: 8080, protocol: udp}]}\n  a: {build: .}\n' });
    expect(s.problems).toEqual([]);
    expect(s.services).toEqual(['a', 'b']);
    expect(s.ports.map((p) => p.spec)).toEqual(['8080:80/udp']);
  });
});
