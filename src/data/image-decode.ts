// One image file → size×size RGB pixels for a batch, decoded by sharp (libvips, on libuv's thread pool)
// so that many images decode at once while JS only plans them: the training view (a RandomResizedCrop box,
// an optional mirror and colour jitter) or the evaluation view (shorter side to size / 0.875, centre crop).
// Resizing uses the bilinear kernel, as torchvision's Resize on PIL images does.
//
// Shrink-on-load: libvips can decode a JPEG at 1/2, 1/4 or 1/8 scale almost for free, but sharp only
// does so when the whole image is resized with no crop before it. So a crop is done as "resize the whole
// image by the factor the crop needs, then cut the crop out of the result" (the 'resize-first' strategy),
// which libvips computes lazily (only the cut-out region is resized) and which lets a large JPEG decode
// small; 'extract-first' cuts at full resolution, then resizes. Their outputs agree up to sub-pixel
// placement of the box; bench/results/loader-imagenet.md measures both.
import { loadSharp } from '../util/sharp.js';
import { centreCropBox, evalResizeSide, resizeShorterSide, type CropBox } from './crop-geometry.js';

export type CropStrategy = 'resize-first' | 'extract-first';

/** Colour jitter factors, applied in `order` (0 brightness, 1 contrast, 2 saturation), as torchvision's ColorJitter. */
export interface JitterFactors {
  brightness: number;
  contrast: number;
  saturation: number;
  order: readonly number[];
}

/** What to make of one image: its crop box (null: the evaluation view), mirror, jitter. */
export interface ImagePlan {
  size: number;
  /** In the source image's pixels; null: resize shorter side to size / 0.875 and centre-crop. */
  box: CropBox | null;
  flip: boolean;
  jitter: JitterFactors | null;
}

export interface DecodedPixels {
  /** size×size×3, interleaved RGB. */
  pixels: Buffer;
  /** The source image's size (before any crop). */
  width: number;
  height: number;
}

/** The image's width, height and format ('jpeg', 'png', 'webp'...) from its header (decodes nothing). */
export async function imageSize(input: string | Buffer): Promise<{ width: number; height: number; format: string }> {
  const sharp = await loadSharp();
  const { width, height, format } = await sharp(input).metadata();
  if (!width || !height) throw new Error('has no width or height');
  return { width, height, format: String(format) };
}

/**
 * The planned view of the image as size×size×3 uint8; `planFor` chooses the box once the image's size is
 * known. Throws (with libvips' message) for a file that is not a whole, readable image.
 */
export async function decodeView(
  input: string | Buffer,
  planFor: (width: number, height: number) => ImagePlan,
  strategy: CropStrategy = 'resize-first',
): Promise<DecodedPixels> {
  const { width, height } = await imageSize(input);
  const plan = planFor(width, height);
  const { size } = plan;
  const sharp = await loadSharp();
  let image = sharp(input, { failOn: 'warning' });
  if (plan.box === null) {
    const resized = resizeShorterSide(width, height, evalResizeSide(size));
    const crop = centreCropBox(resized.width, resized.height, size);
    const left = plan.flip ? resized.width - size - crop.left : crop.left;
    image = image
      .resize(resized.width, resized.height, { fit: 'fill', kernel: 'linear' })
      .extract({ left, top: crop.top, width: size, height: size });
  } else if (strategy === 'extract-first') {
    image = image.extract(plan.box).resize(size, size, { fit: 'fill', kernel: 'linear' });
  } else {
    const { box } = plan;
    // The whole image scaled so that the box becomes size×size, then the box cut out of it.
    const scaledWidth = Math.max(size, Math.round((width * size) / box.width));
    const scaledHeight = Math.max(size, Math.round((height * size) / box.height));
    const unmirrored = Math.min(Math.round((box.left * size) / box.width), scaledWidth - size);
    const left = plan.flip ? scaledWidth - size - unmirrored : unmirrored;
    const top = Math.min(Math.round((box.top * size) / box.height), scaledHeight - size);
    image = image
      .resize(scaledWidth, scaledHeight, { fit: 'fill', kernel: 'linear' })
      .extract({ left, top, width: size, height: size });
  }
  // sharp mirrors after resizing and before the extract that follows a resize, which is why the
  // offsets above are mirrored when the view is.
  if (plan.flip) image = image.flop();
  const { data, info } = await image.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || info.width !== size || info.height !== size) {
    throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${size}×${size}×3`);
  }
  if (plan.jitter) colourJitter(data, plan.jitter);
  return { pixels: data, width, height };
}

/** ITU-R 601 luma as PIL's convert('L') computes it: (299 R + 587 G + 114 B) / 1000. */
const luma = (r: number, g: number, b: number) => (r * 299 + g * 587 + b * 114) / 1000;
const clampByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/**
 * torchvision's ColorJitter on an RGB image in place (brightness, contrast, saturation; no hue): each
 * a blend out = f·image + (1 − f)·other, with other = black, the mean grey level, or the pixel's grey.
 */
export function colourJitter(rgb: Uint8Array, factors: JitterFactors): void {
  for (const step of factors.order) {
    if (step === 0) {
      const f = factors.brightness;
      for (let i = 0; i < rgb.length; i++) rgb[i] = clampByte(rgb[i] * f);
    } else if (step === 1) {
      const f = factors.contrast;
      let sum = 0;
      for (let i = 0; i < rgb.length; i += 3) sum += luma(rgb[i], rgb[i + 1], rgb[i + 2]);
      const mean = Math.round(sum / (rgb.length / 3)) * (1 - f);
      for (let i = 0; i < rgb.length; i++) rgb[i] = clampByte(rgb[i] * f + mean);
    } else {
      const f = factors.saturation;
      for (let i = 0; i < rgb.length; i += 3) {
        const grey = luma(rgb[i], rgb[i + 1], rgb[i + 2]) * (1 - f);
        rgb[i] = clampByte(rgb[i] * f + grey);
        rgb[i + 1] = clampByte(rgb[i + 1] * f + grey);
        rgb[i + 2] = clampByte(rgb[i + 2] * f + grey);
      }
    }
  }
}
