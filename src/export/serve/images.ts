// An image sent to the service, checked and decoded as `senet predict` decodes image files: its header
// read first (so that a non-image, an unaccepted format or a huge image is refused before any pixel is
// decoded), then decoded and resized by sharp on libuv's thread pool, off the event loop.
import { imageSize } from '../../data/image-decode.js';
import { decodeImageBytes } from '../../train/predict.js';
import { HttpError } from './errors.js';

/** The formats the service decodes (sharp reads more, e.g. SVG and TIFF, whose decoders a service need not expose). */
const FORMATS = ['jpeg', 'png', 'webp'];

/**
 * C×H×W uint8 pixels of `shape` for the encoded image `bytes`, or an HttpError (400) naming the problem.
 * `what` names the image in messages ("the request body", "the file 'cat.jpg'").
 */
export async function decodeRequestImage(
  bytes: Buffer,
  shape: readonly [number, number, number],
  what: string,
  maxPixels: number,
): Promise<Uint8Array> {
  if (bytes.length === 0) throw new HttpError(400, `${what} is empty; send a JPEG, PNG or WebP image`);
  let header: { width: number; height: number; format: string };
  try {
    header = await imageSize(bytes);
  } catch (error) {
    throw new HttpError(
      400,
      `${what} is not an image (${(error as Error).message.trim()}); send a JPEG, PNG or WebP image`,
    );
  }
  if (!FORMATS.includes(header.format))
    throw new HttpError(400, `${what} is a ${header.format} image; send a JPEG, PNG or WebP image`);
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    throw new HttpError(
      400,
      `${what} is ${header.width}×${header.height} = ${pixels} pixels, more than the limit of ${maxPixels} ` +
        '(--max-pixels); send a smaller image',
    );
  }
  try {
    return await decodeImageBytes(bytes, shape, what, { maxPixels });
  } catch (error) {
    // A header that reads but pixels that do not: a truncated or corrupt file.
    throw new HttpError(400, (error as Error).message);
  }
}
