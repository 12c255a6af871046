import { describe, expect, it } from 'vitest';
import { checkCompose, formatDiagnostic, interpolate, publishedPorts, validateLab } from '../src/index.js';

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

  it('reads merge keys as Docker Compose does, and checks the merged services', () => {
    const text = [
      'x-base: &base',
      '  image: busybox',
      '  restart: unless-stopped',
      'x-web: &web',
      '  ports: ["8080:80"]',
      'services:',
      '  a:',
      '    <<: *base',
      '  b:',
      '    <<: [*web, *base]',
      '    image: nginx',
      '  c:',
      '    <<: *base',
      '    <<: *web',
      '',
    ].join('\n');
    const s = checkCompose({ path: 'stacks/a/compose.yaml', text });
    expect(s.parsed.problems).toEqual([]);
    expect(s.problems).toEqual([]);
    expect(s.services).toEqual(['a', 'b', 'c']);
    expect(s.parsed.value).toMatchObject({ services: { a: { image: 'busybox', restart: 'unless-stopped' }, b: { image: 'nginx', ports: ['8080:80'] } } });
    // A merged field points at where it is written: under the anchor.
    expect(s.ports.map((p) => [p.service, p.spec, s.parsed.locate(p.path)])).toEqual([
      ['b', '8080:80', { line: 5, col: 11 }],
      ['c', '8080:80', { line: 5, col: 11 }],
    ]);
  });

  it('says when a merge key merges something other than mappings', () => {
    const s = checkCompose({ path: 'stacks/a/compose.yaml', text: 'x-list: &list [1, 2]\nservices:\n  a:\n    <<: *list\n    image: busybox\n' });
    expect(s.parsed.problems.map((p) => [p.code, p.position, p.field, p.message])).toEqual([
      ['YAML_MERGE_INVALID', { line: 4, col: 9 }, ['services', 'a', '<<'], 'a merge key (<<) takes a mapping, an alias of one (*name) or a list of those'],
    ]);
  });

  it('finds a port clash that comes from a merged anchor, and points at the anchor', () => {
    const compose = (port: number) => `x-ports: &ports\n  ports: ["${port}:80"]\nservices:\n  web:\n    <<: *ports\n    image: busybox\n`;
    const r = validateLab({
      root: '/lab',
      stacks: { one: ['compose.yaml'], two: ['compose.yaml'] },
      composeFiles: [
        { path: 'stacks/one/compose.yaml', text: compose(8080) },
        { path: 'stacks/two/compose.yaml', text: compose(8080) },
      ],
      files: [
        { path: 'lab.yaml', text: 'name: mem\nproxmox:\n  endpoint: https://pve:8006\n  tokenId: a@pve!t\n  tokenSecret: env:X\nnodes:\n  n1: {}\ncloudInit:\n  sshKeys: [ssh-ed25519 AAAA]\n' },
        { path: 'images/deb.yaml', text: 'os: {family: debian, release: bookworm}\nsource:\n  url: https://x/deb.qcow2\n  checksumUrl: https://x/SHA512SUMS\n' },
        {
          path: 'personas/p.yaml',
          text: 'template: deb@stable\nsystem: {containerEngine: {kind: docker}}\nworkloads:\n  - stack: one\n  - stack: two\nhosts:\n  h1: {node: n1, ip: 10.1.0.5/16, gateway: 10.1.255.254}\n',
        },
      ],
    });
    expect(r.errors.map(formatDiagnostic)).toEqual([
      'personas/p.yaml:5:12 workloads[1].stack: stack "two" service web (stacks/two/compose.yaml:2) publishes port 8080/tcp, which stack "one" service web (stacks/one/compose.yaml:2) already publishes on the same hosts',
    ]);
  });
});
