/**
 * A seeded PRNG (mulberry32) whose state lives in the sim state, so MACs,
 * UUIDs and token secrets are deterministic for a given seed and history.
 */
export class Rng {
  constructor(private readonly holder: { rng: number }) {}

  next(): number {
    let t = (this.holder.rng = (this.holder.rng + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  bytes(n: number): number[] {
    return Array.from({ length: n }, () => Math.floor(this.next() * 256));
  }

  hex(n: number): string {
    return this.bytes(n)
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
  }

  /** A version-4 style UUID, lowercase. */
  uuid(): string {
    const b = this.bytes(16);
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const h = b.map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** A MAC under `prefix` (e.g. `BC:24:11`), uppercase, as PVE generates them. */
  mac(prefix: string): string {
    const parts = prefix.split(':').filter((p) => p !== '');
    const rest = this.bytes(6 - parts.length).map((x) => x.toString(16).padStart(2, '0'));
    return [...parts, ...rest].join(':').toUpperCase();
  }
}

/** A standalone seeded generator for fault probabilities. */
export function seededRandom(seed: number): () => number {
  const holder = { rng: seed | 0 };
  const rng = new Rng(holder);
  return () => rng.next();
}
