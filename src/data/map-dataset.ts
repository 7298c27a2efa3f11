// Datasets of any samples, PyTorch map-style: a length, and the samples by index — one at a time (`get`)
// or a batch at once (`getBatch`). A sample is a pair [input, target]; the DataLoader (loader.ts) batches
// them into x and y. TensorDataset is the one over tensors of equal first dimension. The uint8 image
// datasets (dataset.ts) are not read this way: the loader copies their pixels into libtorch once and
// augments whole batches there.
import * as torch from '../torch/index.js';

/** One sample: the model's input and the target the loss compares its output with (tensors or numbers). */
export type Sample = readonly [input: torch.Tensor | number, target: torch.Tensor | number];

/** A batch of samples: inputs and targets, each with the batch along the first dimension. */
export type SampleBatch = readonly [inputs: torch.Tensor, targets: torch.Tensor];

/**
 * Any dataset the DataLoader can batch: `length` samples, read by index with `get(i)`, or a batch at once
 * with `getBatch(indices)` (preferred when both exist). Both receive a generator seeded by the loader's
 * (seed, epoch, batch): random transforms drawn from it are the same whenever the batch is made again,
 * which keeps resumed runs exact. What they return belongs to the loader (return new tensors, not stored ones).
 */
export interface Dataset {
  readonly length: number;
  /** For logs and error messages. */
  readonly name?: string;
  /** Class names, when the targets are class indices. */
  readonly classes?: readonly string[];
  get?(index: number, generator: torch.Generator): Sample;
  getBatch?(indices: readonly number[], generator: torch.Generator): SampleBatch;
}

/**
 * Samples made of tensors that share their first dimension (PyTorch's TensorDataset): sample i is
 * [inputs[i], targets[i]]. The dataset keeps its tensors (no tidy scope frees them); dispose() frees them.
 */
export class TensorDataset implements Dataset {
  readonly inputs: torch.Tensor;
  readonly targets: torch.Tensor;
  readonly length: number;
  readonly name: string;
  readonly classes?: readonly string[];

  constructor(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    options: { name?: string; classes?: readonly string[] } = {},
  ) {
    for (const [what, t] of [
      ['inputs', inputs],
      ['targets', targets],
    ] as const) {
      if (!(t instanceof torch.Tensor)) throw new TypeError(`TensorDataset: ${what} must be a Tensor`);
      if (t.ndim === 0) throw new Error(`TensorDataset: ${what} must have a first (sample) dimension, got a scalar`);
    }
    if (inputs.size(0) !== targets.size(0)) {
      throw new Error(
        `TensorDataset: inputs [${inputs.shape.join(', ')}] and targets [${targets.shape.join(', ')}] must have ` +
          'the same first dimension (one target per sample)',
      );
    }
    this.inputs = torch.keep(inputs);
    this.targets = torch.keep(targets);
    this.length = inputs.size(0);
    this.name = options.name ?? 'TensorDataset';
    if (options.classes) this.classes = [...options.classes];
  }

  /** Sample `index` (0 ≤ index < length): copies of inputs[index] and targets[index]. */
  get(index: number): SampleBatch {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new Error(`${this.name}.get(): index must be an integer in 0..${this.length - 1}, got ${index}`);
    }
    return [this.inputs.select(0, index).clone(), this.targets.select(0, index).clone()];
  }

  /** The samples at `indices`, gathered into one batch. */
  getBatch(indices: readonly number[]): SampleBatch {
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.length) {
        throw new Error(`${this.name}.getBatch(): indices must be integers in 0..${this.length - 1}, got ${i}`);
      }
    }
    return torch.tidy(() => {
      const picked = torch.tensor(indices as number[], { dtype: 'int64' });
      return [this.inputs.indexSelect(0, picked), this.targets.indexSelect(0, picked)] as const;
    });
  }

  /** Frees the dataset's tensors. */
  dispose(): void {
    torch.dispose([this.inputs, this.targets]);
  }
}

/** Whether `value` is a tensor or a number array, for error messages. */
const describe = (value: unknown): string =>
  value instanceof torch.Tensor ? `a Tensor [${value.shape.join(', ')}]` : typeof value;

/**
 * Batch `index` of a map-style dataset as [x, y]: getBatch, or get per sample stacked (numbers become an
 * int64 tensor when all are integers, float32 otherwise). Runs in the caller's tidy scope.
 */
export function readSampleBatch(dataset: Dataset, indices: readonly number[], generator: torch.Generator): SampleBatch {
  const what = dataset.name ?? 'the dataset';
  if (typeof dataset.getBatch === 'function') {
    const batch = dataset.getBatch(indices, generator);
    if (!Array.isArray(batch) || batch.length !== 2 || !batch.every((t) => t instanceof torch.Tensor)) {
      throw new Error(`${what}.getBatch() must return [inputs, targets], two tensors; got ${describe(batch)}`);
    }
    for (const t of batch) {
      if (t.ndim === 0 || t.size(0) !== indices.length) {
        throw new Error(
          `${what}.getBatch() returned a tensor of shape [${t.shape.join(', ')}] for ${indices.length} indices; ` +
            `expected the batch (${indices.length}) along the first dimension`,
        );
      }
    }
    return batch;
  }
  const samples = indices.map((i) => {
    const sample = dataset.get!(i, generator);
    if (!Array.isArray(sample) || sample.length !== 2) {
      throw new Error(`${what}.get(${i}) must return a sample [input, target]; got ${describe(sample)}`);
    }
    return sample;
  });
  return [stackField(samples, 0, what), stackField(samples, 1, what)];
}

function stackField(samples: readonly Sample[], field: 0 | 1, what: string): torch.Tensor {
  const values = samples.map((s) => s[field]);
  if (values.every((v) => typeof v === 'number')) {
    const numbers = values as number[];
    return torch.tensor(numbers, { dtype: numbers.every(Number.isInteger) ? 'int64' : 'float32' });
  }
  if (!values.every((v) => v instanceof torch.Tensor)) {
    throw new Error(
      `${what}.get(): every sample's ${field === 0 ? 'input' : 'target'} must be a Tensor, or every one a number`,
    );
  }
  const tensors = values as torch.Tensor[];
  const shape = tensors[0].shape.join(', ');
  const other = tensors.find((t) => t.shape.join(', ') !== shape);
  if (other) {
    throw new Error(
      `${what}.get(): samples of one batch must have the same ${field === 0 ? 'input' : 'target'} shape; ` +
        `got [${shape}] and [${other.shape.join(', ')}]`,
    );
  }
  return torch.stack(tensors);
}

/** Checks that `dataset` can be read as a map-style dataset; throws one error saying what it lacks. */
export function checkDataset(dataset: Dataset): void {
  const what = dataset?.name ? `the dataset '${dataset.name}'` : 'the dataset';
  if (typeof dataset !== 'object' || dataset === null) throw new TypeError('DataLoader: expected a dataset object');
  if (!Number.isInteger(dataset.length) || dataset.length < 0) {
    throw new Error(`DataLoader: ${what} must have a length (a non-negative integer), got ${dataset.length}`);
  }
  if (typeof dataset.get !== 'function' && typeof dataset.getBatch !== 'function') {
    throw new Error(
      `DataLoader: ${what} has neither get(index) nor getBatch(indices); give it one of them ` +
        '(or use TensorDataset, or an image dataset from loadCifar/loadImageFolder)',
    );
  }
}
