// The samplers' random numbers: a small seeded generator (xoshiro128**, Blackman & Vigna) whose stream
// is chosen by a list of integers — the study seed and the trial number — so that what trial n samples
// depends on the seed, n and the study's history only, never on which worker claimed it or when.

/** SplitMix32-style finaliser: spreads the bits of one 32-bit word over all of them. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

export class Rng {
  private readonly s = new Uint32Array(4);

  /** A generator for the stream named by `keys` (non-negative safe integers, e.g. [seed, trialNumber]). */
  constructor(...keys: number[]) {
    let h = 0x9e3779b9;
    for (const key of keys) {
      if (!Number.isSafeInteger(key) || key < 0)
        throw new Error(`Rng keys must be non-negative safe integers, got ${key}`);
      // Both 32-bit halves of the key, so seeds above 2^32 differ too.
      h = mix32(h ^ mix32(key >>> 0));
      h = mix32(h ^ mix32(Math.floor(key / 2 ** 32) + 0x6a09e667));
    }
    for (let i = 0; i < 4; i++) {
      h = mix32(h + 0x9e3779b9);
      this.s[i] = h;
    }
    if (this.s.every((w) => w === 0)) this.s[0] = 1; // the one state xoshiro cannot leave
  }

  /** The next 32 random bits. */
  private nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1), with 53 random bits. */
  uniform(): number {
    const high = this.nextUint32() >>> 5; // 27 bits
    const low = this.nextUint32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform in [low, high). */
  between(low: number, high: number): number {
    return low + (high - low) * this.uniform();
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** A standard normal deviate (Box–Muller). */
  normal(): number {
    const u = 1 - this.uniform(); // (0, 1]: the log is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }

  /** An index drawn with probability proportional to weights[i] (non-negative, not all zero). */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let u = this.uniform() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** The items in a random order (Fisher–Yates), as a new array. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
