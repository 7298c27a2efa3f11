// Antialiased bilinear resizing of interleaved 8-bit images, for the JPEG decoder (jpeg.cc).
#pragma once
#include <cstdint>

namespace senet {

// Resizes `in` (inHeight rows of inWidth pixels of `channels` bytes) to outHeight×outWidth into `out`,
// mirrored left-right if `mirror`: a triangle filter widened by the shrink factor, so that shrinking
// averages every source pixel (the kernel of PIL's BILINEAR and torch's interpolate(antialias=True)).
void resizeBilinearAntialiased(const uint8_t* in, int inWidth, int inHeight, int channels, uint8_t* out,
                               int outWidth, int outHeight, bool mirror);

}  // namespace senet
