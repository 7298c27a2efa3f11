// Classifying image files with a trained model: each image decoded with sharp, resized to cover the
// model's input and centre-cropped (as image folders are loaded for training), normalised as in training,
// then the top-k classes by softmax probability.
import { loadSharp } from '../util/sharp.js';
import * as torch from '../torch/index.js';
import { readRegularFile } from '../util/files.js';
import { BatchTransform } from '../data/index.js';
import { topK } from './metrics.js';
import type { TrainedModel } from './trained-model.js';

export interface Prediction {
  file: string;
  /** The k most probable classes, most probable first. */
  top: { class: string; index: number; probability: number }[];
}

/** One image file as C×H×W uint8 pixels of the given size (RGB for 3 channels, grey for 1). */
export async function decodeImage(path: string, shape: readonly number[]): Promise<Uint8Array> {
  checkImageChannels(shape[0]);
  return decodeImageBytes(readRegularFile(path, 'the image'), shape, `the image ${path}`);
}

export interface DecodeImageOptions {
  /** Refuse images of more pixels than this before decoding them (sharp's limitInputPixels; default sharp's). */
  maxPixels?: number;
}

function checkImageChannels(channels: number): void {
  if (channels !== 3 && channels !== 1)
    throw new Error(`cannot feed images to a model with ${channels} input channels; expected 1 (grey) or 3 (RGB)`);
}

/**
 * Encoded image bytes (JPEG, PNG or WebP) as C×H×W uint8 pixels of the given size: resized to cover it and
 * centre-cropped. `what` names the image in the error thrown for bytes that are not a whole, readable image.
 */
export async function decodeImageBytes(
  input: Buffer,
  [channels, height, width]: readonly number[],
  what: string,
  options: DecodeImageOptions = {},
): Promise<Uint8Array> {
  checkImageChannels(channels);
  const sharp = await loadSharp();
  let pixels: Buffer;
  try {
    const image = sharp(input, options.maxPixels === undefined ? {} : { limitInputPixels: options.maxPixels })
      .removeAlpha()
      .toColourspace(channels === 3 ? 'srgb' : 'b-w')
      .resize(width, height, { fit: 'cover', position: 'centre' });
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded to ${info.channels} channels, expected ${channels}`);
    pixels = data;
  } catch (error) {
    throw new Error(`cannot decode ${what}: ${(error as Error).message}; expected a JPEG, PNG or WebP file`);
  }
  // Interleaved H×W×C (sharp's layout) to planes C×H×W (the model's).
  const plane = height * width;
  const out = new Uint8Array(channels * plane);
  for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) out[c * plane + p] = pixels[p * channels + c];
  return out;
}

/** The top-k predictions of `trained` for each image file. */
export async function predictFiles(trained: TrainedModel, files: readonly string[], k: number): Promise<Prediction[]> {
  if (files.length === 0) throw new Error('no images given: name one or more image files');
  const { model, context } = trained;
  const shape = model.inputShape;
  const kEff = Math.min(k, context.classes.length);
  const decoded = await Promise.all(files.map((f) => decodeImage(f, shape)));
  const pixels = new Uint8Array(decoded.reduce((n, d) => n + d.length, 0));
  decoded.forEach((d, i) => pixels.set(d, i * d.length));
  const transform = new BatchTransform({ augment: 'none', mean: context.mean, std: context.std });
  const batch = torch.tensor(pixels, { shape: [files.length, ...shape] });
  let x: torch.Tensor | null = null;
  try {
    x = await transform.apply(batch);
    const input = x;
    const { indices, probabilities } = torch.noGrad(() => torch.tidy(() => topK(model.call(input), kEff)));
    return files.map((file, i) => ({
      file,
      top: indices[i].map((index, j) => ({
        class: context.classes[index] ?? `class ${index}`,
        index,
        probability: probabilities[i][j],
      })),
    }));
  } finally {
    torch.dispose([batch, x]);
  }
}
