// Random number generation: the global seed, independent generators, and their saved states.
import { native, type GeneratorHandle } from './native.js';
import { Tensor } from './tensor.js';

/** Seeds the default generator (CPU and every CUDA device), as torch.manual_seed does. */
export function manualSeed(seed: number | bigint): void {
  native.manualSeed(seed);
}

/** The seed the default generator was last seeded with. */
export function initialSeed(): bigint {
  return native.generatorSeed(null);
}

/** The default CPU generator's full state (a uint8 tensor), for checkpoints. */
export function getRngState(): Tensor {
  return new Tensor(native.generatorState(null));
}

export function setRngState(state: Tensor): void {
  native.setGeneratorState(null, state._h);
}

/**
 * An independent random stream (torch.Generator), so that, say, data augmentation and weight
 * initialisation do not draw from the same sequence. Pass it as `{ generator }` to random ops.
 */
export class Generator {
  /** @internal */
  readonly _h: GeneratorHandle;

  constructor(seed?: number | bigint) {
    this._h = native.newGenerator(seed);
  }

  manualSeed(seed: number | bigint): this {
    native.manualSeed(seed, this._h);
    return this;
  }

  initialSeed(): bigint {
    return native.generatorSeed(this._h);
  }

  getState(): Tensor {
    return new Tensor(native.generatorState(this._h));
  }

  setState(state: Tensor): this {
    native.setGeneratorState(this._h, state._h);
    return this;
  }
}
