// Batch transforms, run by libtorch on a uint8 batch [B, C, H, W]: conversion to float in [0, 1],
// normalisation, and the standard CIFAR augmentation (random crop with zero padding, horizontal flip)
// or the fast-training one (random translation by up to 2 pixels with reflect padding, horizontal flip).
// The heavy step of each runs on a background thread (async libtorch ops), so that a loader preparing
// the next batch overlaps with the caller's training step; random draws come from a torch.Generator,
// so a batch's augmentation is reproducible from a seed. The numerics follow torchvision's
// ToTensor + Normalize: float(x) / 255, then (x - mean) / std, in float32.
import * as torch from '../torch/index.js';

/** Per-channel statistics of the CIFAR training sets (pixels scaled to [0, 1]). */
export const CIFAR10_MEAN: readonly number[] = [0.4914, 0.4822, 0.4465];
export const CIFAR10_STD: readonly number[] = [0.247, 0.2435, 0.2616];
export const CIFAR100_MEAN: readonly number[] = [0.5071, 0.4865, 0.4409];
export const CIFAR100_STD: readonly number[] = [0.2673, 0.2564, 0.2762];
/** ImageNet's (torchvision's pretrained models and reference scripts use them). */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/** Named normalisations: `half` maps [0, 1] to [-1, 1] (the seed recipe, as in PyTorch's CIFAR tutorial). */
export const NORMALIZATIONS: Readonly<
  Record<'half' | 'cifar10' | 'cifar100' | 'imagenet', { mean: readonly number[]; std: readonly number[] }>
> = {
  half: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  cifar10: { mean: CIFAR10_MEAN, std: CIFAR10_STD },
  cifar100: { mean: CIFAR100_MEAN, std: CIFAR100_STD },
  imagenet: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
};

/** The 'crop-flip' augmentation: torchvision's RandomCrop(size, padding=4) + RandomHorizontalFlip(0.5). */
export const CROP_PADDING = 4;
export const FLIP_PROBABILITY = 0.5;
/**
 * The 'translate-flip' augmentation: RandomCrop(size, padding=2, padding_mode='reflect') +
 * RandomHorizontalFlip(0.5), as in the fast CIFAR-10 training literature (Page's DAWNBench ResNet-9,
 * Jordan's airbench): a smaller shift, and mirrored edges instead of black borders the net would have to
 * learn to ignore.
 */
export const TRANSLATE_PADDING = 2;

/** How the area outside an image is filled when it is shifted: zeros, or its mirror image (without repeating the edge). */
export type PaddingFill = 'zeros' | 'reflect';

function checkBatch(x: torch.Tensor, fn: string, dtype?: torch.DType): void {
  if (x.ndim !== 4 || (dtype && x.dtype !== dtype)) {
    throw new Error(
      `${fn}: expected a ${dtype ?? 'floating-point'} batch [B, C, H, W], got ${x.dtype} [${x.shape.join(', ')}]`,
    );
  }
}

/** uint8 [B, C, H, W] → float32 in [0, 1]: float(x) / 255, as torchvision's ToTensor. */
export async function toFloat(batch: torch.Tensor): Promise<torch.Tensor> {
  checkBatch(batch, 'toFloat()', 'uint8');
  return torch.async.div(batch, 255); // true division of an integer tensor gives float32
}

/** (x - mean[c]) / std[c] per channel, in x's dtype, as torchvision's Normalize. */
export async function normalize(
  x: torch.Tensor,
  mean: readonly number[],
  std: readonly number[],
): Promise<torch.Tensor> {
  checkNormalizable(x, mean, std);
  const [m, s] = statistics(x, mean, std);
  try {
    const centred = await torch.async.sub(x, m);
    try {
      return await torch.async.div(centred, s);
    } finally {
      centred.dispose();
    }
  } finally {
    torch.dispose([m, s]);
  }
}

/**
 * normalize() overwriting x, as Normalize(inplace=True) (the same numbers): the pipeline uses it on its
 * own intermediate, saving two batch-sized allocations per batch.
 */
export async function normalizeInPlace(
  x: torch.Tensor,
  mean: readonly number[],
  std: readonly number[],
): Promise<torch.Tensor> {
  checkNormalizable(x, mean, std);
  const [m, s] = statistics(x, mean, std);
  try {
    await torch.async.sub_(x, m);
    await torch.async.div_(x, s);
    return x;
  } finally {
    torch.dispose([m, s]);
  }
}

function checkNormalizable(x: torch.Tensor, mean: readonly number[], std: readonly number[]): void {
  checkBatch(x, 'normalize()');
  if (!x.isFloatingPoint())
    throw new Error(`normalize(): expected a floating-point batch, got ${x.dtype} (use toFloat first)`);
  checkMeanStd(mean, std, x.size(1));
}

/** As torchvision: the statistics rounded to x's dtype, shaped [1, C, 1, 1] to broadcast over channels. */
function statistics(x: torch.Tensor, mean: readonly number[], std: readonly number[]): [torch.Tensor, torch.Tensor] {
  const shape = [1, mean.length, 1, 1];
  return [
    torch.tensor(Float64Array.from(mean), { shape, dtype: x.dtype }),
    torch.tensor(Float64Array.from(std), { shape, dtype: x.dtype }),
  ];
}

function checkMeanStd(mean: readonly number[], std: readonly number[], channels?: number): void {
  const ok = (a: readonly number[]) => Array.isArray(a) && a.length > 0 && a.every(Number.isFinite);
  if (!ok(mean) || !ok(std) || mean.length !== std.length) {
    throw new Error(
      `normalize: mean and std must be equally long lists of numbers, got mean ${JSON.stringify(mean)} and std ${JSON.stringify(std)}`,
    );
  }
  if (std.some((s) => s <= 0)) throw new Error(`normalize: every std must be positive, got ${JSON.stringify(std)}`);
  if (channels !== undefined && mean.length !== channels) {
    throw new Error(`normalize: ${mean.length} means and stds for a batch of ${channels} channels`);
  }
}

/**
 * Each image shifted by its own random offset: padded with `padding` zeros (or, with fill 'reflect', its
 * mirror image) on every side, then an H×W window cut at a uniformly drawn position (torchvision's
 * RandomCrop(size=(H, W), padding, padding_mode='constant' or 'reflect')).
 */
export async function randomCrop(
  batch: torch.Tensor,
  padding: number,
  generator: torch.Generator,
  fill: PaddingFill = 'zeros',
): Promise<torch.Tensor> {
  checkBatch(batch, 'randomCrop()', 'uint8');
  checkPadding(padding);
  if (fill !== 'zeros' && fill !== 'reflect')
    throw new Error(`randomCrop(): fill must be 'zeros' or 'reflect', got ${JSON.stringify(fill)}`);
  if (fill === 'reflect') checkReflectable(batch, padding);
  const offsets = drawOffsets(batch.size(0), padding, generator);
  return cropAndFlip(batch, padding, offsets, null, fill);
}

/** Each image mirrored left-right with probability p, independently (torchvision's RandomHorizontalFlip). */
export async function randomHorizontalFlip(
  batch: torch.Tensor,
  p: number,
  generator: torch.Generator,
): Promise<torch.Tensor> {
  checkBatch(batch, 'randomHorizontalFlip()', 'uint8');
  checkProbability(p);
  return cropAndFlip(batch, 0, null, drawFlips(batch.size(0), p, generator));
}

function checkPadding(padding: number): void {
  if (!Number.isInteger(padding) || padding < 0)
    throw new Error(`randomCrop(): padding must be a non-negative integer, got ${padding}`);
}

/** Reflect padding mirrors without repeating the edge, so it needs images larger than the padding (as F.pad). */
function checkReflectable(batch: torch.Tensor, padding: number): void {
  const [, , height, width] = batch.shape;
  if (padding >= height || padding >= width) {
    throw new Error(
      `randomCrop(): reflect padding of ${padding} needs images larger than ${padding}×${padding}, got ${height}×${width}`,
    );
  }
}

function checkProbability(p: number): void {
  if (!(p >= 0 && p <= 1)) throw new Error(`randomHorizontalFlip(): p must be in [0, 1], got ${p}`);
}

/** Window positions in the padded image: rows then columns, each uniform in [0, 2·padding]. */
function drawOffsets(
  count: number,
  padding: number,
  generator: torch.Generator,
): { rows: torch.Tensor; cols: torch.Tensor } {
  const rows = torch.randint(0, 2 * padding + 1, [count], { generator });
  const cols = torch.randint(0, 2 * padding + 1, [count], { generator });
  return { rows, cols };
}

/** Which images to mirror: rand() < p for each, as RandomHorizontalFlip decides per image. */
function drawFlips(count: number, p: number, generator: torch.Generator): torch.Tensor {
  return torch.tidy(() => torch.rand([count], { generator }).lt(p));
}

/**
 * Where position i of a reflect-padded axis of length n lies in the unpadded one (i from -padding to
 * n-1+padding): -i before the start, 2(n-1) - i after the end, as F.pad(mode='reflect') fills it;
 * both cases at once as (n-1) - |(n-1) - |i||.
 */
function reflectIndex(i: torch.Tensor, n: number): torch.Tensor {
  return torch.tidy(() =>
    i
      .abs()
      .neg()
      .add(n - 1)
      .abs()
      .neg()
      .add(n - 1),
  );
}

/**
 * One gather doing crop and flip together: out[b, c, y, x] = padded[b, c, rows[b] + y, col(b, x)], with
 * col(b, x) = cols[b] + x, or cols[b] + W-1-x for mirrored images. The small index tensors are built here;
 * the zero padding and the gather run in the background. Reflect padding needs no padded copy: its
 * positions are mapped back into the image (reflectIndex) and gathered from it directly. Disposes the
 * offsets and flips it is given.
 */
async function cropAndFlip(
  batch: torch.Tensor,
  padding: number,
  offsets: { rows: torch.Tensor; cols: torch.Tensor } | null,
  flips: torch.Tensor | null,
  fill: PaddingFill = 'zeros',
): Promise<torch.Tensor> {
  const [count, channels, height, width] = batch.shape;
  const indices = torch.tidy(() => {
    const b = torch.arange(count).view(count, 1, 1, 1);
    const c = torch.arange(channels).view(1, channels, 1, 1);
    let rows = torch.arange(height).view(1, 1, height, 1);
    let cols = torch.arange(width).view(1, 1, 1, width);
    if (flips)
      cols = torch.where(flips.view(count, 1, 1, 1), torch.arange(width - 1, -1, -1).view(1, 1, 1, width), cols);
    if (offsets) {
      rows = rows.add(offsets.rows.view(count, 1, 1, 1));
      cols = cols.add(offsets.cols.view(count, 1, 1, 1));
    }
    if (fill === 'reflect' && padding > 0) {
      rows = reflectIndex(rows.sub(padding), height);
      cols = reflectIndex(cols.sub(padding), width);
    }
    return [b, c, rows, cols];
  });
  torch.dispose([offsets, flips]);
  try {
    if (padding === 0 || fill === 'reflect') return await torch.async.index(batch, indices);
    const padded = await torch.async.pad(batch, [padding, padding, padding, padding]);
    try {
      return await torch.async.index(padded, indices);
    } finally {
      padded.dispose();
    }
  } finally {
    torch.dispose(indices);
  }
}

/** 'random-resized-crop' crops full-size images, so the streaming loader (streaming-loader.ts) does it, not BatchTransform. */
export type Augmentation = 'none' | 'crop-flip' | 'translate-flip' | 'translate-altflip' | 'random-resized-crop';
export const AUGMENTATIONS: readonly Augmentation[] = [
  'none',
  'crop-flip',
  'translate-flip',
  'translate-altflip',
  'random-resized-crop',
];
/** Augmentations that shift stored fixed-size images (so they need the images in memory). */
export const SHIFTING_AUGMENTATIONS: readonly Augmentation[] = ['crop-flip', 'translate-flip', 'translate-altflip'];

/** How each augmentation shifts: padding and fill of its random crop. */
const CROPS: Record<Exclude<Augmentation, 'none' | 'random-resized-crop'>, { padding: number; fill: PaddingFill }> = {
  'crop-flip': { padding: CROP_PADDING, fill: 'zeros' },
  'translate-flip': { padding: TRANSLATE_PADDING, fill: 'reflect' },
  'translate-altflip': { padding: TRANSLATE_PADDING, fill: 'reflect' },
};

/**
 * airbench's "alternating flip": which images of an epoch are mirrored, given each image's own coin
 * `base` (a bool tensor, drawn once per run): in even epochs those whose coin came up, in odd epochs the
 * others. Each image is then seen mirrored in every other epoch, rather than in a random half of them, so
 * consecutive epochs never repeat a view.
 */
export function alternatingFlips(base: torch.Tensor, epoch: number): torch.Tensor {
  if (!Number.isInteger(epoch) || epoch < 0)
    throw new Error(`alternatingFlips: epoch must be an integer >= 0, got ${epoch}`);
  if (base.dtype !== 'bool') throw new Error(`alternatingFlips: base must be a bool tensor, got ${base.dtype}`);
  return epoch % 2 === 0 ? base.clone() : base.logicalNot();
}

/** A batch pipeline as JSON, so that a trainer can record it and rebuild the same pipeline later. */
export interface TransformConfig {
  augment: Augmentation;
  /** Per-channel mean and std for normalisation; without them the output stays in [0, 1]. */
  mean?: readonly number[];
  std?: readonly number[];
}

/**
 * uint8 batch → float32 batch: the augmentation (if any), toFloat, then normalize (if configured).
 * 'crop-flip' draws, in order, the row offsets, the column offsets and the flips from the generator: the
 * same as randomCrop(x, 4, g) followed by randomHorizontalFlip(·, 0.5, g), but in one gather;
 * 'translate-flip' likewise as randomCrop(x, 2, g, 'reflect') then randomHorizontalFlip(·, 0.5, g);
 * 'translate-altflip' draws the offsets as 'translate-flip' and takes the flips from the caller (the
 * loader's alternatingFlips of the batch's images), drawing them as 'translate-flip' when none are given.
 */
export class BatchTransform {
  readonly config: TransformConfig;

  constructor(config: TransformConfig) {
    if (!AUGMENTATIONS.includes(config.augment)) {
      throw new Error(
        `unknown augmentation '${config.augment}': expected ${AUGMENTATIONS.map((a) => `'${a}'`).join(' or ')}`,
      );
    }
    if (config.augment === 'random-resized-crop') {
      throw new Error(
        'random-resized-crop crops the full images as they are decoded: it needs a streamed image folder ' +
          '(--data-mode stream or auto, with --image-size N), not a batch of stored images',
      );
    }
    if ((config.mean === undefined) !== (config.std === undefined)) {
      throw new Error('transform config: give both mean and std, or neither');
    }
    if (config.mean && config.std) checkMeanStd(config.mean, config.std);
    this.config = Object.freeze({
      augment: config.augment,
      ...(config.mean && config.std ? { mean: [...config.mean], std: [...config.std] } : {}),
    });
  }

  /** Whether apply() needs a generator. */
  get isRandom(): boolean {
    return this.config.augment !== 'none';
  }

  /** The transformed batch (a new tensor; the input is left as it is). */
  async apply(batch: torch.Tensor, generator?: torch.Generator, flips?: torch.Tensor): Promise<torch.Tensor> {
    checkBatch(batch, 'BatchTransform.apply()', 'uint8');
    let augmented = batch;
    if (this.config.augment !== 'none') {
      if (!generator)
        throw new Error(`BatchTransform.apply(): the '${this.config.augment}' augmentation needs a torch.Generator`);
      const { padding, fill } = CROPS[this.config.augment as keyof typeof CROPS];
      if (fill === 'reflect') checkReflectable(batch, padding);
      const count = batch.size(0);
      const offsets = drawOffsets(count, padding, generator);
      // The loader gives the alternating flip's; without them (sample images) they are drawn as translate-flip's.
      const flipped =
        this.config.augment === 'translate-altflip' && flips ? flips : drawFlips(count, FLIP_PROBABILITY, generator);
      augmented = await cropAndFlip(batch, padding, offsets, flipped, fill);
    }
    let scaled: torch.Tensor;
    try {
      scaled = await toFloat(augmented);
    } finally {
      if (augmented !== batch) augmented.dispose();
    }
    if (!this.config.mean || !this.config.std) return scaled;
    try {
      return await normalizeInPlace(scaled, this.config.mean, this.config.std);
    } catch (error) {
      scaled.dispose();
      throw error;
    }
  }

  toJSON(): TransformConfig {
    return this.config;
  }
}
