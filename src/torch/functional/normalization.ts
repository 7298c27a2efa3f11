// Normalisation layers' functional forms (torch.nn.functional).
import { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';

const BATCH_NORM = defineOp(
  'aten::batch_norm(input, weight, bias, running_mean, running_var, training, ' + 'momentum, eps, cudnn_enabled)',
);
const LAYER_NORM = defineOp('aten::layer_norm(input, normalized_shape, weight, bias, eps, cudnn_enable)');
const GROUP_NORM = defineOp('aten::group_norm(input, num_groups, weight, bias, eps, cudnn_enabled)');

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  /** Normalise with batch statistics and update the running ones (default false: use running stats). */
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over dimension 1. In training the running mean/var (if given) are updated in
 * place with `momentum`, exactly as torch.nn.functional.batch_norm does.
 */
export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  const training = options.training ?? false;
  if (!training && (!runningMean || !runningVar)) {
    throw new TypeError('batchNorm(): running mean and variance are required when not training');
  }
  if (training && input instanceof Tensor) checkValuesPerChannel(input.shape);
  return wrap(
    BATCH_NORM(
      input,
      options.weight ?? null,
      options.bias ?? null,
      runningMean ?? null,
      runningVar ?? null,
      training,
      options.momentum ?? 0.1,
      options.eps ?? 1e-5,
      true,
    ),
  );
}

// Batch statistics of a single value per channel have no variance (the unbiased running variance would
// divide by zero), so PyTorch refuses them in training, as we do.
function checkValuesPerChannel(shape: readonly number[]): void {
  const perChannel = shape.reduce((n, size, i) => (i === 1 ? n : n * size), 1);
  if (shape.length >= 2 && perChannel === 1) {
    throw new RangeError(
      `batchNorm(): expected more than 1 value per channel when training, got input of shape [${shape.join(', ')}]`,
    );
  }
}

export function layerNorm(
  input: Tensor,
  normalizedShape: readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  return wrap(LAYER_NORM(input, [...normalizedShape], weight ?? null, bias ?? null, eps, true));
}

export function groupNorm(
  input: Tensor,
  numGroups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  return wrap(GROUP_NORM(input, numGroups, weight ?? null, bias ?? null, eps, true));
}
