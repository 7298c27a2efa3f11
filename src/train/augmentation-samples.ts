// The data-augmentation stage's picture: the first training images as stored (top row) and as the
// training augmentation makes them (bottom row), enlarged and tiled into one PNG in the run directory,
// so that what the augmentation does can be checked at a glance.
import { loadSharp } from '../util/sharp.js';
import * as torch from '../torch/index.js';
import { BatchTransform, type Augmentation, type ImageDataset } from '../data/index.js';

/** Images per row. */
export const SAMPLE_COUNT = 8;
/** Each pixel becomes SCALE × SCALE pixels (CIFAR's 32×32 would be too small to see). */
export const SAMPLE_SCALE = 4;
/** White space between and around the tiles, in output pixels. */
export const SAMPLE_GAP = 4;

/** Pixels of the first `count` images after the augmentation, in [0, 255], N×C×H×W like the dataset's. */
async function augmented(
  pixels: Uint8Array,
  shape: number[],
  augment: Augmentation,
  seed: number,
): Promise<Uint8Array> {
  const batch = torch.tensor(pixels, { dtype: 'uint8', shape });
  const generator = new torch.Generator(seed);
  let floats: torch.Tensor | null = null;
  try {
    floats = await new BatchTransform({ augment }).apply(batch, augment === 'none' ? undefined : generator);
    return torch.tidy(() => floats!.mul(255).round().clamp(0, 255).to('uint8').data() as Uint8Array);
  } finally {
    torch.dispose([batch, floats]);
  }
}

/** Writes the sample grid to `path`; returns how many images it shows. */
export async function writeAugmentationSamples(
  path: string,
  train: ImageDataset,
  augment: Augmentation,
  seed: number,
): Promise<number> {
  const { channels: c, height: h, width: w } = train;
  const count = Math.min(SAMPLE_COUNT, train.length);
  const original = train.images.subarray(0, count * c * h * w);
  const rows = [original, await augmented(original, [count, c, h, w], augment, seed)];
  const tileW = w * SAMPLE_SCALE;
  const tileH = h * SAMPLE_SCALE;
  const width = count * tileW + (count + 1) * SAMPLE_GAP;
  const height = rows.length * tileH + (rows.length + 1) * SAMPLE_GAP;
  const canvas = new Uint8Array(width * height * c).fill(255);
  rows.forEach((pixels, row) => {
    for (let n = 0; n < count; n++) {
      const left = SAMPLE_GAP + n * (tileW + SAMPLE_GAP);
      const top = SAMPLE_GAP + row * (tileH + SAMPLE_GAP);
      for (let y = 0; y < tileH; y++) {
        for (let x = 0; x < tileW; x++) {
          const source = n * c * h * w + Math.floor(y / SAMPLE_SCALE) * w + Math.floor(x / SAMPLE_SCALE);
          const target = ((top + y) * width + left + x) * c;
          for (let k = 0; k < c; k++) canvas[target + k] = pixels[source + k * h * w];
        }
      }
    }
  });
  const sharp = await loadSharp();
  await sharp(canvas, { raw: { width, height, channels: c as 1 | 3 } })
    .png()
    .toFile(path);
  return count;
}
