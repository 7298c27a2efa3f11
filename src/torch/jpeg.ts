// JPEG files decoded by libjpeg-turbo in the native engine (as torchvision.io.decode_jpeg is a libjpeg
// call): the header, and one region of the image decoded at 1/1, 1/2, 1/4 or 1/8 scale (in the DCT, so a
// smaller scale is cheaper), resized to the size asked for and mirrored if asked, on libuv's thread pool.
// The arguments are checked here; native/jpeg.cc only decodes.
import { native, type JpegHeader } from './native.js';

export type { JpegHeader };

/** The scales libjpeg decodes at, as denominators (1/1 … 1/8). */
export const JPEG_SCALE_DENOMINATORS = [1, 2, 4, 8] as const;
export type JpegScaleDenominator = (typeof JPEG_SCALE_DENOMINATORS)[number];

/** The most pixels a region (or its output) may have: sharp's default limitInputPixels, 16383². */
export const JPEG_MAX_PIXELS = 0x3fff * 0x3fff;

/** A JPEG file starts with the SOI marker and a second marker (FF D8 FF). */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** The width, height and colour space of a JPEG; throws libjpeg's reason when it is not a readable one. */
export function readJpegHeader(bytes: Uint8Array): JpegHeader {
  return native.jpegHeader(bytes);
}

export interface JpegRegionOptions {
  /** Decode at 1/denom scale (default 1); the region is in the pixels of that scaled image. */
  denom?: JpegScaleDenominator;
  region: { left: number; top: number; width: number; height: number };
  /** The output size (default: the region's). */
  width?: number;
  height?: number;
  /** Mirror left-right. */
  mirror?: boolean;
}

/**
 * Decodes `region` of the JPEG to height×width×3 RGB bytes (grayscale JPEGs repeated over the three
 * channels), resized by the antialiased bilinear kernel (PIL's BILINEAR, torch's antialias=True).
 * Rejects with libjpeg's reason when the data is corrupt or truncated anywhere in the file.
 */
export function decodeJpegRegion(bytes: Uint8Array, options: JpegRegionOptions): Promise<Buffer> {
  const { region, denom = 1, mirror = false } = options;
  const { width = region.width, height = region.height } = options;
  if (!JPEG_SCALE_DENOMINATORS.includes(denom)) {
    throw new RangeError(`decodeJpegRegion: denom must be 1, 2, 4 or 8, got ${denom}`);
  }
  const positive = { 'region.width': region.width, 'region.height': region.height, width, height };
  for (const [name, value] of Object.entries(positive)) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`decodeJpegRegion: ${name} must be a positive integer, got ${value}`);
  }
  for (const [name, value] of Object.entries({ 'region.left': region.left, 'region.top': region.top })) {
    if (!Number.isInteger(value) || value < 0)
      throw new RangeError(`decodeJpegRegion: ${name} must be a non-negative integer, got ${value}`);
  }
  for (const [name, pixels] of [
    ['region', region.width * region.height],
    ['output', width * height],
  ] as const) {
    if (pixels > JPEG_MAX_PIXELS)
      throw new RangeError(
        `decodeJpegRegion: the ${name} has ${pixels} pixels, more than the limit ${JPEG_MAX_PIXELS}`,
      );
  }
  return native.decodeJpegAsync(
    bytes,
    denom,
    region.left,
    region.top,
    region.width,
    region.height,
    width,
    height,
    mirror,
  );
}
