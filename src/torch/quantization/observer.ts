// How a float tensor's range becomes int8 quantization parameters, as PyTorch's default observers for the
// onednn and qnnpack engines compute them: activations per tensor, affine, quint8 over [0, 255], the
// range widened to include zero (MinMaxObserver); weights per output channel, symmetric, qint8
// (PerChannelMinMaxObserver with per_channel_symmetric): scale = max|w| / 127.5, zero point 0.
import type { Tensor } from '../tensor.js';
import { tidy } from '../memory.js';

/** Scales never go below float32's epsilon, as PyTorch's observers clamp them (an all-zero range). */
export const MIN_SCALE = 1.1920928955078125e-7;

/** One scale and zero point for a whole tensor. */
export interface QParams {
  scale: number;
  zeroPoint: number;
}

/** float32 rounding of a double, as PyTorch computes the qparams in float32 tensors. */
const f32 = Math.fround;

/** quint8 parameters covering [min, max] (widened to include 0, so zero is exact, as padding needs). */
export function affineQParams(min: number, max: number): QParams {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new Error(`cannot quantize the observed range [${min}, ${max}]: calibrate on finite inputs first`);
  }
  const lo = f32(Math.min(min, 0));
  const hi = f32(Math.max(max, 0));
  const scale = Math.max(f32(f32(hi - lo) / 255), MIN_SCALE);
  const zeroPoint = Math.min(255, Math.max(0, 0 - Math.round(f32(lo / scale))));
  return { scale: f32(scale), zeroPoint };
}

/** Records the running minimum and maximum of the tensors it sees (calibration). */
export class MinMaxObserver {
  min = Infinity;
  max = -Infinity;

  observe(x: Tensor): void {
    const [lo, hi] = tidy(() => [x.min().item(), x.max().item()]);
    this.min = Math.min(this.min, lo);
    this.max = Math.max(this.max, hi);
  }

  get observed(): boolean {
    return this.min <= this.max;
  }

  qparams(): QParams {
    if (!this.observed)
      throw new Error('an int8 layer saw no calibration data: run calibration batches before converting');
    return affineQParams(this.min, this.max);
  }
}

/** Per-output-channel symmetric qint8 scales of a weight [out, ...] as a float64 tensor (zero points are 0). */
export function weightScales(weight: Tensor): Tensor {
  return tidy(() => {
    const flat = weight.detach().reshape(weight.size(0), -1);
    const maxAbs = flat.abs().amax(1);
    // In float32, as PyTorch divides, then widened: quantize_per_channel takes float64 scales.
    return maxAbs.div(127.5).clamp(MIN_SCALE).to('float64');
  });
}
