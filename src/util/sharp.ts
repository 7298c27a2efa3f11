// sharp (libvips), the image decoder and encoder, imported on first use rather than with senet: it takes
// about 0.3 s to load, which `import { torch } from 'senet'` should not pay when no image file is read.
import type Sharp from 'sharp';

let loading: Promise<typeof Sharp> | undefined;

/** The sharp function, loaded once. */
export function loadSharp(): Promise<typeof Sharp> {
  loading ??= import('sharp').then(({ default: sharp }) => {
    sharp.cache(false); // every image is seen once per epoch: libvips' operation cache would only hold memory
    return sharp;
  });
  return loading;
}
