import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { archiveMirror } from './apt-sources.js';

/** The Debian release whose archive carries `ubuntu-keyring` (bookworm's does not). */
const KEYRING_SUITE = 'trixie';

/**
 * apt options for a private configuration in `dir`: its own sources, lists and cache, nothing of
 * the machine's but its trusted Debian keys (so what it fetches is checked as apt checks anything).
 */
export function privateAptOptions(dir: string): string[] {
  return [
    `Dir::Etc::SourceList=${join(dir, 'sources.list')}`,
    `Dir::Etc::SourceParts=${join(dir, 'sources.list.d')}`,
    `Dir::State::Lists=${join(dir, 'lists')}`,
    `Dir::Cache=${join(dir, 'cache')}`,
    'Dir::State::Status=/dev/null',
    'APT::Sandbox::User=root',
  ].flatMap((o) => ['-o', o]);
}

/**
 * Ubuntu's archive keyring, for debootstrap to check the Ubuntu archive with: taken once from the
 * `ubuntu-keyring` package of Debian's archive (through the machine's Debian mirror, checked by apt
 * with Debian's keys) and kept in the cache. Returns the keyring's path.
 */
export async function ubuntuKeyring(o: { cacheDir: string; env?: NodeJS.ProcessEnv; onStep?: ((name: string) => void) | undefined }): Promise<string> {
  const keyring = join(o.cacheDir, 'testlab', 'keyrings', 'ubuntu-archive-keyring.gpg');
  if (existsSync(keyring)) return keyring;
  const mirror = archiveMirror({ distro: 'debian', suite: KEYRING_SUITE, ...(o.env ? { env: o.env } : {}) });
  o.onStep?.(`Ubuntu archive keyring (ubuntu-keyring from Debian ${KEYRING_SUITE}, ${mirror.url})`);
  const work = join(o.cacheDir, 'testlab', 'keyrings', 'work');
  rmSync(work, { recursive: true, force: true });
  for (const d of ['sources.list.d', 'lists/partial', 'cache/archives/partial', 'deb', 'x']) mkdirSync(join(work, d), { recursive: true });
  writeFileSync(join(work, 'sources.list'), `deb ${mirror.url} ${KEYRING_SUITE} main\n`);
  const apt = privateAptOptions(work);
  const run = async (argv: string[], cwd?: string) => {
    const r = await execa(argv[0]!, argv.slice(1), { reject: false, all: true, ...(cwd ? { cwd } : {}), env: { LC_ALL: 'C' } });
    if (r.exitCode !== 0) throw new Error(`Ubuntu keyring: ${argv.join(' ')} failed (${r.exitCode === undefined ? r.message : `exit ${r.exitCode}`}):\n${(r.all ?? '').slice(-2000)}`);
  };
  await run(['apt-get', ...apt, 'update', '-qq']);
  await run(['apt-get', ...apt, 'download', '-qq', 'ubuntu-keyring'], join(work, 'deb'));
  const deb = readdirSync(join(work, 'deb')).find((n) => n.endsWith('.deb'));
  if (!deb) throw new Error('Ubuntu keyring: apt-get download ubuntu-keyring left no package');
  await run(['dpkg-deb', '-x', join(work, 'deb', deb), join(work, 'x')]);
  const extracted = join(work, 'x', 'usr', 'share', 'keyrings', 'ubuntu-archive-keyring.gpg');
  if (!existsSync(extracted)) throw new Error(`Ubuntu keyring: ${deb} holds no ubuntu-archive-keyring.gpg`);
  copyFileSync(extracted, `${keyring}.new`);
  renameSync(`${keyring}.new`, keyring);
  rmSync(work, { recursive: true, force: true });
  return keyring;
}
