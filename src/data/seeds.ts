// Seeds for the data pipeline's random streams, derived from (seed, epoch, ...) alone, so that an epoch's
// shuffle and a batch's augmentation are the same whatever ran before: a resumed run replays them exactly.
const MASK = (1n << 64n) - 1n;

/** The SplitMix64 finaliser: a bijection on 64-bit integers that scatters nearby inputs far apart. */
function splitmix64(value: bigint): bigint {
  let z = (value + 0x9e3779b97f4a7c15n) & MASK;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return z ^ (z >> 31n);
}

/**
 * A 64-bit seed for the stream named by `path` (e.g. [epoch, SHUFFLE]) under the user's `seed`:
 * h = splitmix64(seed mod 2^64), then h = splitmix64(h xor part) for each part in order.
 */
export function deriveSeed(seed: number | bigint, ...path: readonly number[]): bigint {
  if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
    throw new Error(`seed must be an integer, got ${seed}`);
  }
  let h = splitmix64(BigInt(seed) & MASK);
  for (const part of path) h = splitmix64(h ^ (BigInt(part) & MASK));
  return h;
}

/** The streams the loader draws from. */
export const STREAM = { shuffle: 0, augment: 1, shards: 2, altflip: 3 } as const;

/**
 * A uniform [0, 1) generator for per-image random draws made in JS (crop boxes, flips, colour jitter),
 * seeded by a derived 64-bit seed (folded to 32 bits): mulberry32, small and fast, and plenty for
 * augmentation draws. Same seed, same sequence.
 */
export function seededUniform(seed: bigint): () => number {
  let state = Number((seed ^ (seed >> 32n)) & 0xffffffffn) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
