// Where the ImageNet-style transforms cut an image, as plain numbers (no pixels): torchvision's
// RandomResizedCrop.get_params for training, and Resize(size / 0.875) + CenterCrop(size) for evaluation.
// The decoder (image-decode.ts) turns a box into pixels; keeping the geometry apart makes its statistics
// testable without images.

/** A region of an image in pixels: the left column, the top row, and its width and height. */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** RandomResizedCrop's defaults: the crop's share of the image area, and its width/height ratio. */
export const CROP_SCALE: readonly [number, number] = [0.08, 1];
export const CROP_RATIO: readonly [number, number] = [3 / 4, 4 / 3];
/** Evaluation resizes the shorter side to size / EVAL_CROP_FRACTION (256 for 224), then centre-crops size. */
export const EVAL_CROP_FRACTION = 0.875;

/** Python's round(): halves go to the even neighbour (torchvision's geometry uses it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * torchvision's RandomResizedCrop box: up to 10 tries of an area share uniform in `scale` and a ratio
 * log-uniform in `ratio`, the first that fits placed uniformly; if none fits, the largest centred box
 * whose ratio is clamped into `ratio`. `uniform` gives numbers in [0, 1).
 */
export function randomResizedCropBox(
  width: number,
  height: number,
  uniform: () => number,
  scale: readonly [number, number] = CROP_SCALE,
  ratio: readonly [number, number] = CROP_RATIO,
): CropBox {
  const area = width * height;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * (scale[0] + (scale[1] - scale[0]) * uniform());
    const aspect = Math.exp(logRatio[0] + (logRatio[1] - logRatio[0]) * uniform());
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = Math.floor(uniform() * (height - h + 1));
      const left = Math.floor(uniform() * (width - w + 1));
      return { left, top, width: w, height: h };
    }
  }
  // Fallback: a centre crop of the whole image, trimmed to the nearest allowed ratio.
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

/**
 * torchvision's Resize(shorter) on a width×height image: the shorter side becomes `shorter`, the longer
 * keeps the aspect ratio, truncated (int(shorter · long / short)).
 */
export function resizeShorterSide(width: number, height: number, shorter: number): { width: number; height: number } {
  if (width <= height) return { width: shorter, height: Math.floor((shorter * height) / width) };
  return { width: Math.floor((shorter * width) / height), height: shorter };
}

/** torchvision's CenterCrop(size) box in a width×height image (offsets rounded as Python's round). */
export function centreCropBox(width: number, height: number, size: number): CropBox {
  return {
    left: roundHalfEven((width - size) / 2),
    top: roundHalfEven((height - size) / 2),
    width: size,
    height: size,
  };
}

/** The shorter side evaluation resizes to before its centre crop of `size`: int(size / 0.875) (256 for 224). */
export function evalResizeSide(size: number): number {
  return Math.floor(size / EVAL_CROP_FRACTION);
}

/**
 * The JPEG decode scale (as a denominator: 1/1, 1/2, 1/4, 1/8) for a crop box that becomes size×size: the
 * smallest scale at which the box still has at least `size` pixels each way, as PIL's draft() chooses.
 */
export function jpegDecodeDenominator(box: CropBox, size: number): 1 | 2 | 4 | 8 {
  for (const denom of [8, 4, 2] as const) {
    if (box.width >= size * denom && box.height >= size * denom) return denom;
  }
  return 1;
}

/**
 * `box` in the pixels of the width×height image decoded at 1/denom scale (ceil(width / denom) wide, as
 * libjpeg scales): its edges divided by denom and rounded, at least one pixel, inside the image.
 */
export function scaleCropBox(box: CropBox, denom: number, width: number, height: number): CropBox {
  const [scaledWidth, scaledHeight] = [Math.ceil(width / denom), Math.ceil(height / denom)];
  const left = Math.min(Math.round(box.left / denom), scaledWidth - 1);
  const top = Math.min(Math.round(box.top / denom), scaledHeight - 1);
  const right = Math.min(Math.max(Math.round((box.left + box.width) / denom), left + 1), scaledWidth);
  const bottom = Math.min(Math.max(Math.round((box.top + box.height) / denom), top + 1), scaledHeight);
  return { left, top, width: right - left, height: bottom - top };
}
