import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { archiveMirror, UBUNTU_MIRROR_VARIABLE } from './apt-sources.js';
import { ubuntuKeyring } from './keyring.js';
import { DEFAULT_RECIPE, recipeDigest, UBUNTU_RECIPE, type ImageRecipe } from './recipe.js';
import { buildSteps } from './steps.js';

/** A built guest image in the cache. */
export interface GuestImage {
  readonly digest: string;
  readonly dir: string;
  /** The disk, a qcow2 with one ext4 partition labelled recipe.rootLabel. */
  readonly disk: string;
  /** Kernel and initrd for direct boot (root=LABEL=recipe.rootLabel). */
  readonly kernel: string;
  readonly initrd: string;
  readonly recipe: ImageRecipe;
  /** The archive mirror it was built from, which its apt sources name (its guests fetch from it). */
  readonly mirror: string;
  /** True when this call built it, false when it came from the cache. */
  readonly built: boolean;
}

/** What boots a disk of `image`: its kernel and initrd, mounting / by its label. */
export function bootOf(image: GuestImage): { kernel: string; initrd: string; rootLabel: string } {
  return { kernel: image.kernel, initrd: image.initrd, rootLabel: image.recipe.rootLabel };
}

export interface BuildOptions {
  recipe?: ImageRecipe;
  /** Cache root; default $AHL_CACHE_DIR or ~/.cache/ahl. */
  cacheDir?: string;
  /**
   * The mirror to build from, when the cache does not hold the image; default: AHL_DEBIAN_MIRROR
   * (AHL_UBUNTU_MIRROR) in `env`, else the first source of the recipe's distribution in this
   * machine's apt configuration (archiveMirror()).
   */
  mirror?: string;
  /** Where AHL_DEBIAN_MIRROR and AHL_UBUNTU_MIRROR are looked up; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Called with each step's name as it starts. */
  onStep?: (name: string) => void;
}

export function cacheRoot(explicit?: string): string {
  return explicit ?? process.env.AHL_CACHE_DIR ?? join(homedir(), '.cache', 'ahl');
}

function imageFiles(dir: string) {
  return { disk: join(dir, 'disk.qcow2'), kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), manifest: join(dir, 'image.json') };
}

/** The cached image for a recipe, if it was built completely. */
export function cachedImage(recipe: ImageRecipe = DEFAULT_RECIPE, cacheDir?: string): GuestImage | undefined {
  const digest = recipeDigest(recipe);
  const dir = join(cacheRoot(cacheDir), 'testlab', 'images', digest);
  const f = imageFiles(dir);
  // image.json is written last, so its presence means the build finished.
  if (!existsSync(f.manifest)) return undefined;
  let mirror: unknown;
  try {
    mirror = (JSON.parse(readFileSync(f.manifest, 'utf8')) as { mirror?: unknown }).mirror;
  } catch {
    return undefined;
  }
  if (typeof mirror !== 'string') return undefined;
  return { digest, dir, disk: f.disk, kernel: f.kernel, initrd: f.initrd, recipe, mirror, built: false };
}

/**
 * Builds the guest image for `recipe` unless the cache already holds it. Needs root (debootstrap,
 * chroot, mount). Concurrent builders of the same recipe wait for the first one.
 */
export async function buildImage(options: BuildOptions = {}): Promise<GuestImage> {
  const recipe = options.recipe ?? DEFAULT_RECIPE;
  const cached = cachedImage(recipe, options.cacheDir);
  if (cached) return cached;

  const digest = recipeDigest(recipe);
  const dir = join(cacheRoot(options.cacheDir), 'testlab', 'images', digest);
  const env = options.env ? { env: options.env } : {};
  const source = options.mirror ? { url: options.mirror, from: 'the caller' } : archiveMirror({ distro: recipe.distro, suite: recipe.suite, ...env });
  const mirror = source.url;
  options.onStep?.(`${recipe.distro} mirror ${mirror} (from ${source.from})`);
  mkdirSync(dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  await acquire(lock);
  try {
    const again = cachedImage(recipe, options.cacheDir);
    if (again) return again;
    const work = `${dir}.work`;
    await cleanupWork(work);
    mkdirSync(work, { recursive: true });
    const paths = { root: join(work, 'root'), rawDisk: join(work, 'disk.raw'), rawPart: join(work, 'part.raw'), qcow2: join(work, 'disk.qcow2') };
    mkdirSync(paths.root);
    try {
      // Ubuntu's archive is signed with Ubuntu's keys: their keyring comes from Debian's archive, checked by apt with Debian's.
      const keyring = recipe.distro === 'ubuntu' ? await ubuntuKeyring({ cacheDir: cacheRoot(options.cacheDir), ...env, onStep: options.onStep }) : undefined;
      for (const step of buildSteps(recipe, paths, mirror, keyring)) {
        options.onStep?.(step.name);
        if ('files' in step) {
          for (const [path, f] of Object.entries(step.files)) {
            mkdirSync(dirname(path), { recursive: true });
            writeFileSync(path, f.text, { mode: f.mode });
          }
        } else {
          const r = await execa(step.argv[0]!, step.argv.slice(1), { env: { ...step.env }, input: step.input, reject: false, all: true });
          if (r.exitCode !== 0) throw new Error(`image build step "${step.name}" failed (${r.exitCode === undefined ? r.message : `exit ${r.exitCode}`}): ${step.argv.join(' ')}\n${(r.all ?? '').slice(-4000)}`);
        }
        if (step.name === 'apt install') copyBootFiles(paths.root, work);
      }
      const f = imageFiles(work);
      rmSync(paths.root, { recursive: true, force: true });
      rmSync(paths.rawDisk, { force: true });
      rmSync(paths.rawPart, { force: true });
      writeFileSync(f.manifest, `${JSON.stringify({ digest, recipe, mirror, diskBytes: statSync(f.disk).size }, null, 2)}\n`);
      rmSync(dir, { recursive: true, force: true });
      renameSync(work, dir);
      pruneOtherImages(dirname(dir), digest, recipe.distro);
    } catch (e) {
      await cleanupWork(work);
      throw e;
    }
    const f = imageFiles(dir);
    return { digest, dir, disk: f.disk, kernel: f.kernel, initrd: f.initrd, recipe, mirror, built: true };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The Ubuntu image: from the cache, else built from the Ubuntu mirror (AHL_UBUNTU_MIRROR or the
 * machine's apt configuration). Ubuntu's archive is not a source every machine reaches, so when
 * there is neither a cached image nor a mirror that builds one, this says why instead of throwing:
 * the local lab then gives Ubuntu templates the Debian image, and a test that needs Ubuntu is
 * skipped naming the cause.
 */
export async function ubuntuImage(options: Omit<BuildOptions, 'recipe'> = {}): Promise<GuestImage | { readonly unavailable: string }> {
  try {
    return await buildImage({ ...options, recipe: UBUNTU_RECIPE });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const reason = code === 'UBUNTU_MIRROR_MISSING' ? `${(e as Error).message} (set ${UBUNTU_MIRROR_VARIABLE}, or add an Ubuntu source to apt's configuration)` : `the Ubuntu image could not be built: ${(e as Error).message.split('\n')[0]}`;
    return { unavailable: reason };
  }
}

/**
 * Marks an image as used by this process until it exits, so a build of a newer recipe does not
 * prune it from under running guests (their overlays and kernels point into it).
 */
export function markImageInUse(image: GuestImage): void {
  const dir = join(image.dir, 'in-use');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, String(process.pid)), '');
}

function inUse(imageDir: string): boolean {
  const dir = join(imageDir, 'in-use');
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((pid) => {
    try {
      process.kill(Number(pid), 0);
      return true;
    } catch {
      rmSync(join(dir, pid), { force: true });
      return false;
    }
  });
}

/**
 * Images of older recipes of the same distribution are dead weight (about 1 GiB each): remove them
 * once a new one is built, unless running guests use them. Another distribution's image is kept.
 */
function pruneOtherImages(imagesDir: string, keep: string, distro: string): void {
  for (const name of readdirSync(imagesDir)) {
    if (name === keep || name.endsWith('.lock') || name.endsWith('.work') || existsSync(join(imagesDir, `${name}.lock`))) continue;
    if (!/^[0-9a-f]{16}$/.test(name) || inUse(join(imagesDir, name))) continue;
    let theirs: unknown;
    try {
      theirs = (JSON.parse(readFileSync(imageFiles(join(imagesDir, name)).manifest, 'utf8')) as { recipe?: { distro?: unknown } }).recipe?.distro ?? 'debian';
    } catch {
      theirs = distro; // half-built or unreadable: not worth keeping
    }
    if (theirs === distro) rmSync(join(imagesDir, name), { recursive: true, force: true });
  }
}

function copyBootFiles(root: string, out: string): void {
  const boot = join(root, 'boot');
  const names = readdirSync(boot);
  const kernel = names.filter((n) => n.startsWith('vmlinuz-')).sort().pop();
  const initrd = names.filter((n) => n.startsWith('initrd.img-')).sort().pop();
  if (!kernel || !initrd) throw new Error(`image build: no kernel or initrd in ${boot} (${names.join(', ')})`);
  copyFileSync(join(boot, kernel), join(out, 'vmlinuz'));
  copyFileSync(join(boot, initrd), join(out, 'initrd.img'));
}

/** A half-built tree may still have /proc and /dev mounted inside: unmount before removing it. */
async function cleanupWork(work: string): Promise<void> {
  if (!existsSync(work)) return;
  for (const m of ['proc', 'dev']) await execa('umount', ['-l', join(work, 'root', m)], { reject: false });
  const mounts = readFileSync('/proc/mounts', 'utf8');
  if (mounts.includes(`${work}/`)) throw new Error(`image build: ${work} still has mounts; unmount them and retry`);
  rmSync(work, { recursive: true, force: true });
}

/** A lock directory; a lock older than an hour is from a killed builder and is taken over. */
async function acquire(lock: string): Promise<void> {
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 3_600_000) {
          rmSync(lock, { recursive: true, force: true });
          continue;
        }
      } catch {
        continue;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
