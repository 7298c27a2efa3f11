// The options every model takes, and their checks. A model is an image classifier: [N, C, H, W] images
// in, [N, numClasses] logits out.
import type { nn } from '../torch/index.js';
import { checkInt } from '../torch/nn/args.js';
import type { Layer } from '../se/index.js';

export interface ModelOptions extends nn.FactoryOptions {
  /** Number of output classes (10 for CIFAR-10, 100 for CIFAR-100, 1000 for ImageNet). */
  numClasses?: number;
  /** Channels of the input images (default 3). */
  inChannels?: number;
  /**
   * Input height and width (one number for square images). Models with global average pooling work at
   * any size and only record it as their nominal input; SimpleCNN sizes its classifier from it.
   */
  inputSize?: number | readonly [number, number];
}

/**
 * A model: a classifier that also knows the input shape [C, H, W] it was built for, and which of its
 * children is the classifier (the layer mapping features to class logits: what fine-tuning replaces when
 * the class count changes; everything else is the backbone).
 */
export type Model = Layer & { readonly inputShape: [number, number, number]; readonly classifierName: string };

/** The checked options with a family's defaults filled in. */
export interface ResolvedModelOptions {
  numClasses: number;
  inChannels: number;
  inputSize: [number, number];
  /** Where parameters and buffers are created (dtype, device; float32 on the CPU by default). */
  factory: nn.FactoryOptions;
}

export function resolveModelOptions(
  options: ModelOptions,
  who: string,
  defaults: { numClasses: number; inputSize: number },
): ResolvedModelOptions {
  const numClasses = checkInt(options.numClasses ?? defaults.numClasses, `${who}: numClasses`, 1);
  const inChannels = checkInt(options.inChannels ?? 3, `${who}: inChannels`, 1);
  const inputSize = resolveSize(options.inputSize ?? defaults.inputSize, `${who}: inputSize`);
  return { numClasses, inChannels, inputSize, factory: { dtype: options.dtype, device: options.device } };
}

function resolveSize(size: number | readonly [number, number], what: string): [number, number] {
  if (typeof size === 'number') {
    const side = checkInt(size, what, 1);
    return [side, side];
  }
  if (!Array.isArray(size) || size.length !== 2) {
    throw new TypeError(`${what} must be an integer or [height, width], got ${JSON.stringify(size)}`);
  }
  return [checkInt(size[0], `${what}[0]`, 1), checkInt(size[1], `${what}[1]`, 1)];
}
