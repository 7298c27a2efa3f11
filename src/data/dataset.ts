// The in-memory image dataset every loader in src/data produces: all pixels in one uint8 array, one
// label per image, and the class names. Kept as plain JS memory (not tensors) so that loading, caching
// and inspecting a dataset never needs libtorch; `datasetTensors` makes the libtorch copy once.
import * as torch from '../torch/index.js';

export interface ImageDataset {
  /** Where it came from, for logs and reports: 'cifar10-train', 'cifar10-jpeg/test', ... */
  readonly name: string;
  /** Every image's pixels, N×C×H×W: image after image, each one channel plane after another (CHW). */
  readonly images: Uint8Array;
  /** The class index of each image, 0 <= label < classes.length. */
  readonly labels: Int32Array;
  /** Class names; label i means classes[i]. */
  readonly classes: readonly string[];
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  /** The number of images. */
  readonly length: number;
}

/** Everything a dataset holds; the length follows from the labels. */
export type DatasetFields = Omit<ImageDataset, 'length'>;

/**
 * A dataset from its parts, checked: pixel count = N·C·H·W for the N labels, every label names a class.
 * Extra fields of `fields` (an image folder's paths, say) are kept.
 */
export function makeDataset<F extends DatasetFields>(fields: F): F & ImageDataset {
  const dataset = { ...fields, length: fields.labels.length };
  validateDataset(dataset);
  return dataset;
}

/** Throws one error naming the dataset and the first inconsistency found. */
export function validateDataset(d: ImageDataset): void {
  const what = `dataset '${d.name}'`;
  for (const key of ['channels', 'height', 'width'] as const) {
    if (!Number.isInteger(d[key]) || d[key] < 1) {
      throw new Error(`${what}: ${key} must be a positive integer, got ${d[key]}`);
    }
  }
  if (!(d.images instanceof Uint8Array)) throw new Error(`${what}: images must be a Uint8Array of N×C×H×W pixels`);
  if (!(d.labels instanceof Int32Array)) throw new Error(`${what}: labels must be an Int32Array`);
  if (d.length !== d.labels.length) {
    throw new Error(`${what}: length is ${d.length} but there are ${d.labels.length} labels`);
  }
  const imageSize = d.channels * d.height * d.width;
  if (d.images.length !== d.length * imageSize) {
    throw new Error(
      `${what}: ${d.images.length} pixel bytes for ${d.length} labels; expected ${d.length} × ` +
        `${d.channels}×${d.height}×${d.width} = ${d.length * imageSize}`,
    );
  }
  if (d.classes.length === 0) throw new Error(`${what}: no class names`);
  for (let i = 0; i < d.length; i++) {
    const label = d.labels[i];
    if (label < 0 || label >= d.classes.length) {
      throw new Error(
        `${what}: image ${i} has label ${label}; expected 0..${d.classes.length - 1} (${d.classes.length} classes)`,
      );
    }
  }
}

/**
 * The dataset as libtorch tensors: images uint8 [N, C, H, W] and labels int64 [N]. Both are copies,
 * marked kept (no scope frees them): the caller owns them and disposes them when done.
 */
export function datasetTensors(d: ImageDataset): { images: torch.Tensor; labels: torch.Tensor } {
  return torch.tidy(() => {
    const images = torch.tensor(d.images, { shape: [d.length, d.channels, d.height, d.width] });
    const labels = torch.tensor(d.labels).to('int64');
    return torch.keep({ images, labels });
  });
}

/**
 * The images at `indices`, in that order, as a dataset of their own. Only the indices 0..N-1 in order give
 * back the dataset itself: a reordering of every image is a copy in the new order.
 */
export function subsetOf(dataset: ImageDataset, indices: readonly number[]): ImageDataset {
  if (indices.length === dataset.length && indices.every((from, to) => from === to)) return dataset;
  const size = dataset.channels * dataset.height * dataset.width;
  const images = new Uint8Array(indices.length * size);
  indices.forEach((from, to) => images.set(dataset.images.subarray(from * size, (from + 1) * size), to * size));
  return makeDataset({
    name: `${dataset.name} (${indices.length} images)`,
    images,
    labels: Int32Array.from(indices, (i) => dataset.labels[i]),
    classes: dataset.classes,
    channels: dataset.channels,
    height: dataset.height,
    width: dataset.width,
  });
}

/** How many images each class has, indexed like `classes` (for class-balance summaries). */
export function classCounts(d: ImageDataset): number[] {
  const counts = new Array<number>(d.classes.length).fill(0);
  for (const label of d.labels) counts[label]++;
  return counts;
}

/**
 * Per-channel mean and (population) standard deviation of the pixels scaled to [0, 1]: the numbers
 * `normalize` wants for a new dataset. Sums run in float64 over integer counts, so they are exact.
 */
export function channelStats(d: ImageDataset): { mean: number[]; std: number[] } {
  const plane = d.height * d.width;
  const mean: number[] = [];
  const std: number[] = [];
  for (let c = 0; c < d.channels; c++) {
    const histogram = new Float64Array(256);
    for (let n = 0; n < d.length; n++) {
      const start = (n * d.channels + c) * plane;
      for (let i = start; i < start + plane; i++) histogram[d.images[i]]++;
    }
    let count = 0;
    let sum = 0;
    let sumSquares = 0;
    for (let v = 0; v < 256; v++) {
      count += histogram[v];
      sum += histogram[v] * v;
      sumSquares += histogram[v] * v * v;
    }
    const m = sum / count;
    mean.push(m / 255);
    std.push(Math.sqrt(Math.max(sumSquares / count - m * m, 0)) / 255);
  }
  return { mean, std };
}
