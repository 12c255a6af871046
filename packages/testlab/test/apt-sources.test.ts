import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { archiveMirror, findMirror, isAptSourceFile, parseAptSources } from '../src/index.js';

const APT = fileURLToPath(new URL('./fixtures/apt/', import.meta.url));
const read = (rel: string) => readFileSync(join(APT, rel), 'utf8');

describe('apt source files', () => {
  it('parses the one-line format: options, comments and deb-src lines', () => {
    expect(parseAptSources('sources.list', read('one-line/sources.list'))).toEqual([
      { file: 'sources.list', types: ['deb-src'], uris: ['http://src-mirror.example/debian'], suites: ['bookworm'], components: ['main'], enabled: true },
      { file: 'sources.list', types: ['deb'], uris: ['http://mirror.example/debian/'], suites: ['bookworm'], components: ['main', 'contrib', 'non-free-firmware'], enabled: true },
      { file: 'sources.list', types: ['deb'], uris: ['http://mirror.example/debian'], suites: ['bookworm-updates'], components: ['main'], enabled: true },
      { file: 'sources.list', types: ['deb'], uris: ['http://security-mirror.example/debian-security'], suites: ['bookworm-security'], components: ['main'], enabled: true },
    ]);
  });

  it('parses deb822 stanzas, with comments inside them and Enabled: no', () => {
    expect(parseAptSources('debian.sources', read('deb822/sources.list.d/debian.sources'))).toEqual([
      { file: 'debian.sources', types: ['deb'], uris: ['http://mirror.example/debian'], suites: ['bookworm', 'bookworm-updates'], components: ['main'], enabled: true },
      { file: 'debian.sources', types: ['deb'], uris: ['http://mirror.example/debian-security'], suites: ['bookworm-security'], components: ['main'], enabled: true },
    ]);
    expect(parseAptSources('a.sources', read('deb822/sources.list.d/a-disabled.sources'))[0]!.enabled).toBe(false);
    // Continuation lines and field names in any case.
    expect(parseAptSources('x.sources', 'types: deb\nURIS: http://a.example/debian\n  http://b.example/debian\nSuites: trixie\nComponents: main\n')[0]!.uris).toEqual([
      'http://a.example/debian',
      'http://b.example/debian',
    ]);
  });

  it('reads only the files apt reads', () => {
    expect(['debian.sources', 'vendor.list'].every(isAptSourceFile)).toBe(true);
    expect(['vendor.sources.disabled-by-admin', 'vendor.list.save', '.hidden.list~'].some(isAptSourceFile)).toBe(false);
  });
});

describe('the Debian mirror to build the guest image from', () => {
  it('is the first http:// Debian source of the suite with main, never a deb-src, vendor or security one', () => {
    expect(findMirror(parseAptSources('sources.list', read('one-line/sources.list')), 'debian', 'bookworm')).toEqual({ url: 'http://mirror.example/debian', file: 'sources.list' });
  });

  it('is one of another Debian release when none is of the suite: a mirror holds every release', () => {
    const trixie = parseAptSources('debian.sources', 'Types: deb\nURIs: http://mirror.example/debian\nSuites: trixie trixie-updates\nComponents: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: trixie-security\nComponents: main\n');
    expect(findMirror(trixie, 'debian', 'bookworm')).toEqual({ url: 'http://mirror.example/debian', file: 'debian.sources' });
    const security = parseAptSources('s.list', 'deb http://security-mirror.example/debian-security bookworm-security main\n');
    expect(findMirror(security, 'debian', 'bookworm')).toBeUndefined();
  });

  it('follows a mirror+file: list, and skips https:// (guests fetch through the lab\'s plain-HTTP proxy)', () => {
    const sources = parseAptSources('debian.sources', 'Types: deb\nURIs: mirror+file:///etc/apt/mirrors/debian.list\nSuites: bookworm\nComponents: main\n');
    expect(findMirror(sources, 'debian', 'bookworm', { '/etc/apt/mirrors/debian.list': '# mirrors\nhttps://tls-mirror.example/debian\nhttp://mirror.example/debian\tpriority:1\n' })).toEqual({
      url: 'http://mirror.example/debian',
      file: 'debian.sources',
    });
    expect(findMirror(sources, 'debian', 'bookworm')).toBeUndefined();
  });

  it('comes from the machine\'s apt configuration, deb822 included, disabled stanzas and other files left out', () => {
    expect(archiveMirror({ env: {}, suite: 'bookworm', aptDir: join(APT, 'deb822') })).toEqual({ url: 'http://mirror.example/debian', from: join(APT, 'deb822/sources.list.d/debian.sources') });
    expect(archiveMirror({ env: {}, suite: 'bookworm', aptDir: join(APT, 'one-line') })).toEqual({ url: 'http://mirror.example/debian', from: join(APT, 'one-line/sources.list') });
  });

  it('is AHL_DEBIAN_MIRROR when it is set', () => {
    expect(archiveMirror({ env: { AHL_DEBIAN_MIRROR: 'http://site-cache.example:3142/debian/' }, suite: 'bookworm', aptDir: join(APT, 'deb822') })).toEqual({
      url: 'http://site-cache.example:3142/debian',
      from: 'AHL_DEBIAN_MIRROR',
    });
  });

  it('names what to set when there is none (DEBIAN_MIRROR_MISSING)', () => {
    for (const dir of ['ubuntu', 'empty', 'absent']) {
      let error: unknown;
      try {
        archiveMirror({ env: {}, suite: 'bookworm', aptDir: join(APT, dir) });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({
        code: 'DEBIAN_MIRROR_MISSING',
        message: "no Debian mirror for bookworm to build the local lab's guest image from",
        hint: "set AHL_DEBIAN_MIRROR to the http:// URL of a Debian mirror (the folder that holds dists/ and pool/: your site's mirror or apt cache) and run again",
      });
      expect((error as { why: string }).why).toContain(`AHL_DEBIAN_MIRROR is not set; ${join(APT, dir)}/sources.list and ${join(APT, dir)}/sources.list.d/ hold none`);
    }
    expect(() => archiveMirror({ env: { AHL_DEBIAN_MIRROR: 'https://tls-mirror.example/debian' }, suite: 'bookworm', aptDir: join(APT, 'deb822') })).toThrow(
      expect.objectContaining({ code: 'DEBIAN_MIRROR_MISSING', why: expect.stringContaining('AHL_DEBIAN_MIRROR="https://tls-mirror.example/debian" is not an http:// URL') }),
    );
  });
});

describe('the Ubuntu mirror to build the Ubuntu image from', () => {
  it('is an Ubuntu source of the machine (never a Debian one), or AHL_UBUNTU_MIRROR', () => {
    expect(archiveMirror({ distro: 'ubuntu', env: {}, suite: 'noble', aptDir: join(APT, 'ubuntu') })).toEqual({ url: 'http://ubuntu-mirror.example/ubuntu', from: join(APT, 'ubuntu/sources.list.d/ubuntu.sources') });
    const jammy = parseAptSources('u.list', 'deb http://ubuntu-mirror.example/ubuntu jammy main\ndeb http://mirror.example/debian bookworm main\n');
    expect(findMirror(jammy, 'ubuntu', 'noble')).toEqual({ url: 'http://ubuntu-mirror.example/ubuntu', file: 'u.list' });
    expect(findMirror(jammy.slice(1), 'ubuntu', 'noble')).toBeUndefined();
    expect(archiveMirror({ distro: 'ubuntu', env: { AHL_UBUNTU_MIRROR: 'http://site-cache.example:3142/ubuntu' }, suite: 'noble', aptDir: join(APT, 'deb822') })).toEqual({
      url: 'http://site-cache.example:3142/ubuntu',
      from: 'AHL_UBUNTU_MIRROR',
    });
  });

  it('names what to set when there is none (UBUNTU_MIRROR_MISSING)', () => {
    expect(() => archiveMirror({ distro: 'ubuntu', env: { AHL_DEBIAN_MIRROR: 'http://mirror.example/debian' }, suite: 'noble', aptDir: join(APT, 'deb822') })).toThrow(
      expect.objectContaining({ code: 'UBUNTU_MIRROR_MISSING', why: expect.stringContaining(`AHL_UBUNTU_MIRROR is not set; ${join(APT, 'deb822')}/sources.list`) }),
    );
  });
});
