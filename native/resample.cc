// Antialiased bilinear resizing of interleaved 8-bit images: separable, the rows first into a float
// buffer, then the columns, each output pixel a weighted sum over the source pixels its triangle
// filter covers. The weights follow torch's _upsample_bilinear2d_aa (and PIL's resample): the filter
// is centred at scale × (i + 0.5), and its support grows with the scale when shrinking.
//
// Why not libtorch's _upsample_bilinear2d_aa itself: on float tensors (the only kind it takes in libtorch
// 1.13) it took 1.2–1.8 ms per 224×224 crop of a 400×534 photo, three times the JPEG decode of the crop;
// bench/results/loader-imagenet.md has the numbers. test/torch/jpeg.test.ts checks the two agree.
#include "resample.h"
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

namespace senet {
namespace {

// For each output index: the first source index and the normalised weights of the sources it covers.
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<float> weights;  // `width` per output index, zero-padded
  int width = 0;
};

Taps tapsFor(int inSize, int outSize) {
  const double scale = static_cast<double>(inSize) / outSize;
  const double support = scale >= 1.0 ? scale : 1.0;
  const double invScale = scale >= 1.0 ? 1.0 / scale : 1.0;
  Taps taps;
  taps.width = static_cast<int>(std::ceil(support)) * 2 + 1;
  taps.first.resize(outSize);
  taps.count.resize(outSize);
  taps.weights.assign(static_cast<size_t>(outSize) * taps.width, 0.0f);
  std::vector<double> w(taps.width);
  for (int i = 0; i < outSize; ++i) {
    const double centre = scale * (i + 0.5);
    const int lo = std::max(static_cast<int>(centre - support + 0.5), 0);
    const int n = std::min(std::min(static_cast<int>(centre + support + 0.5), inSize) - lo, taps.width);
    double total = 0;
    for (int j = 0; j < n; ++j) {
      const double x = std::abs((j + lo - centre + 0.5) * invScale);
      w[j] = x < 1.0 ? 1.0 - x : 0.0;
      total += w[j];
    }
    // Sources of weight zero at either end are left out (at scale 1, every output pixel is one source).
    int from = 0, to = n;
    while (to > from + 1 && w[to - 1] == 0) --to;
    while (from < to - 1 && w[from] == 0) ++from;
    taps.first[i] = lo + from;
    taps.count[i] = to - from;
    for (int j = from; j < to; ++j) {
      taps.weights[static_cast<size_t>(i) * taps.width + j - from] = static_cast<float>(total > 0 ? w[j] / total : 0);
    }
  }
  return taps;
}

}  // namespace

void resizeBilinearAntialiased(const uint8_t* in, int inWidth, int inHeight, int channels, uint8_t* out,
                               int outWidth, int outHeight, bool mirror) {
  const Taps across = tapsFor(inWidth, outWidth), down = tapsFor(inHeight, outHeight);
  const size_t inRow = static_cast<size_t>(inWidth) * channels, outRow = static_cast<size_t>(outWidth) * channels;
  // Rows first: inHeight rows of outWidth pixels, kept in float so that rounding happens once.
  // Not zero-filled (every element is written below): ~1 MB per crop that would be cleared for nothing.
  std::unique_ptr<float[]> rows(new float[static_cast<size_t>(inHeight) * outRow]);
  for (int y = 0; y < inHeight; ++y) {
    const uint8_t* src = in + y * inRow;
    float* dst = rows.get() + y * outRow;
    for (int x = 0; x < outWidth; ++x) {
      const float* w = across.weights.data() + static_cast<size_t>(x) * across.width;
      const uint8_t* s = src + static_cast<size_t>(across.first[x]) * channels;
      const int n = across.count[x];
      if (channels == 3) {  // the common case, with the three sums in registers
        float r = 0, g = 0, b = 0;
        for (int k = 0; k < n; ++k, s += 3) {
          r += w[k] * s[0];
          g += w[k] * s[1];
          b += w[k] * s[2];
        }
        dst[x * 3] = r;
        dst[x * 3 + 1] = g;
        dst[x * 3 + 2] = b;
        continue;
      }
      for (int c = 0; c < channels; ++c) {
        float sum = 0;
        for (int k = 0; k < n; ++k) sum += w[k] * s[k * channels + c];
        dst[x * channels + c] = sum;
      }
    }
  }
  // Then the columns: each output row a weighted sum of whole rows.
  std::vector<float> sum(outRow);
  for (int y = 0; y < outHeight; ++y) {
    const float* w = down.weights.data() + static_cast<size_t>(y) * down.width;
    float* acc = sum.data();
    const float* first = rows.get() + static_cast<size_t>(down.first[y]) * outRow;
    for (size_t i = 0; i < outRow; ++i) acc[i] = w[0] * first[i];
    for (int k = 1; k < down.count[y]; ++k) {
      const float* src = first + static_cast<size_t>(k) * outRow;
      const float wk = w[k];
      for (size_t i = 0; i < outRow; ++i) acc[i] += wk * src[i];
    }
    uint8_t* dst = out + y * outRow;
    for (int x = 0; x < outWidth; ++x) {
      const float* from = acc + (mirror ? outWidth - 1 - x : x) * channels;
      for (int c = 0; c < channels; ++c) {
        const float v = from[c] + 0.5f;  // rounded half up, as PIL rounds
        dst[x * channels + c] = static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : static_cast<int>(v));
      }
    }
  }
}

}  // namespace senet
