// Index-to-vector lookups (torch.nn.functional.embedding and one_hot).
import type { Tensor } from '../tensor.js';
import { defineOp, wrap } from '../ops/dispatch.js';

const EMBEDDING = defineOp('aten::embedding(weight, indices, padding_idx, scale_grad_by_freq)');
const ONE_HOT = defineOp('aten::one_hot(self, num_classes)');

/**
 * [..., numClasses] int64 with a 1 at each value of the int64 tensor `indices` (torch.nn.functional.one_hot).
 * numClasses -1 (the default) takes the largest value plus one.
 */
export function oneHot(indices: Tensor, numClasses = -1): Tensor {
  if (!Number.isInteger(numClasses) || numClasses < -1) {
    throw new TypeError(
      `oneHot(): numClasses must be a non-negative integer (or -1 to infer it), got ${String(numClasses)}`,
    );
  }
  return wrap(ONE_HOT(indices, numClasses));
}

export interface EmbeddingOptions {
  /**
   * The row of `weight` whose gradient is never accumulated (a padding token's); negative counts from the
   * end, as in PyTorch.
   */
  paddingIdx?: number | null;
  /** Divide each row's gradient by how often its index occurs in the batch. */
  scaleGradByFreq?: boolean;
}

/**
 * The rows of `weight` ([numEmbeddings, dim]) at the int64 `indices`: output shape [...indices.shape, dim]
 * (torch.nn.functional.embedding). An index outside [0, numEmbeddings) is an Error.
 */
export function embedding(indices: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  const paddingIdx =
    options.paddingIdx === undefined || options.paddingIdx === null
      ? -1
      : normalisePaddingIdx(options.paddingIdx, weight.size(0), 'embedding()');
  try {
    return wrap(EMBEDDING(weight, indices, paddingIdx, options.scaleGradByFreq ?? false));
  } catch (error) {
    // libtorch's own words ('index out of range in self') name neither the argument nor the range.
    const message = (error as Error).message;
    if (!/index out of range/.test(message)) throw error;
    throw new RangeError(
      `embedding(): every index must be in [0, ${weight.size(0)}) (the rows of weight), got one outside (${message})`,
    );
  }
}

/**
 * A padding index as libtorch takes it: in [0, numEmbeddings), negatives counted from the end (PyTorch's
 * rule, shared with nn.Embedding).
 */
export function normalisePaddingIdx(paddingIdx: number, numEmbeddings: number, fn: string): number {
  if (!Number.isInteger(paddingIdx) || paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings) {
    throw new RangeError(
      `${fn}: paddingIdx must be an integer in [-${numEmbeddings}, ${numEmbeddings}) (numEmbeddings is ` +
        `${numEmbeddings}), got ${String(paddingIdx)}`,
    );
  }
  return paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
}
