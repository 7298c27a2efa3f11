// Test-time augmentation: a classifier's prediction for an image as the mean of its softmax outputs over
// transformed views of it — the views a model trained with flips and translations has learned to treat
// alike, so that their mean averages out some of each view's errors.
//   none            the image itself
//   flip            the image and its mirror image, weighted equally
//   flip-translate  as airbench's multi-crop: 1/2 × flip(image) + 1/4 × flip(image shifted one pixel up-left)
//                   + 1/4 × flip(image shifted one pixel down-right), shifts filled by reflection
// where flip(v) is the mean of the flip views of v. The inputs are already normalised: reflection commutes
// with the per-channel normalisation, so shifting the normalised batch is shifting the image. The views'
// softmax probabilities are averaged by default; airbench averages their logits instead (ttaMean 'logits').
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';

export const TTA_MODES = ['none', 'flip', 'flip-translate'] as const;
export type TTAMode = (typeof TTA_MODES)[number];

/** How many forward passes a batch costs under each mode. */
export const TTA_VIEWS: Readonly<Record<TTAMode, number>> = { none: 1, flip: 2, 'flip-translate': 6 };

/** What is averaged over the views: softmax probabilities, or the logits themselves. */
export const TTA_MEANS = ['probabilities', 'logits'] as const;
export type TTAMean = (typeof TTA_MEANS)[number];

type Forward = (x: Tensor) => Tensor;
type View = (logits: Tensor) => Tensor;

/** softmax over classes, in float32 whatever the logits' dtype (bfloat16 under autocast). */
const probabilities: View = (logits) => logits.float().softmax(1);
const floatLogits: View = (logits) => logits.float();

/** The mean of the view of x and of x mirrored left-right. */
function flipMean(forward: Forward, x: Tensor, view: View): Tensor {
  return torch.tidy(() =>
    view(forward(x))
      .add(view(forward(x.flip(3))))
      .div(2),
  );
}

/** x moved by one pixel along the diagonal (dy = dx = ±1), the uncovered edge filled by reflection. */
function shiftDiagonal(x: Tensor, direction: 1 | -1): Tensor {
  return torch.tidy(() => {
    const [, , height, width] = x.shape;
    const padded = torch.F.pad(x, [1, 1, 1, 1], 'reflect');
    // Window (0, 0) shows the image moved down-right by one; window (2, 2) moved up-left.
    const start = direction === 1 ? 0 : 2;
    return padded.narrow(2, start, height).narrow(3, start, width).contiguous();
  });
}

/**
 * Class probabilities [N, K] (float32) for a batch x [N, C, H, W]: the softmax of `forward(x)` averaged
 * over the views of `mode`, with the weights above.
 */
export function ttaProbabilities(forward: Forward, x: Tensor, mode: TTAMode): Tensor {
  return ttaMean(forward, x, mode, probabilities);
}

/** Float32 logits [N, K] for a batch: `forward(x)`'s logits averaged over the views of `mode`, with the weights above. */
export function ttaLogits(forward: Forward, x: Tensor, mode: TTAMode): Tensor {
  return ttaMean(forward, x, mode, floatLogits);
}

function ttaMean(forward: Forward, x: Tensor, mode: TTAMode, view: View): Tensor {
  if (!(TTA_MODES as readonly string[]).includes(mode)) {
    throw new Error(
      `test-time augmentation must be one of ${TTA_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`,
    );
  }
  if (x.ndim !== 4)
    throw new Error(`test-time augmentation needs a batch of images [N, C, H, W], got [${x.shape.join(', ')}]`);
  return torch.tidy(() => {
    if (mode === 'none') return view(forward(x));
    const centre = flipMean(forward, x, view);
    if (mode === 'flip') return centre;
    const shifted = flipMean(forward, shiftDiagonal(x, 1), view).add(flipMean(forward, shiftDiagonal(x, -1), view));
    return centre.mul(0.5).add(shifted.mul(0.25));
  });
}
