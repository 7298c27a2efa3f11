// JPEG decoding with libjpeg-turbo for the streaming image loader: the header (size, colour space), and
// one region of the image decoded on libuv's thread pool at a DCT scale of 1/1, 1/2, 1/4 or 1/8, then
// resized (antialiased bilinear, resample.cc) to the requested size and mirrored if asked. Only the region's
// columns are inverse-transformed (jpeg_crop_scanline) and its rows decoded (jpeg_skip_scanlines); the
// region, scale and output size are chosen in TypeScript (src/data/image-decode.ts).
//
// Why this is here and not in sharp: sharp/libvips took 3.7 ms per crop of a 400×534 photo where
// libjpeg-turbo and resample.cc take well under half that (bench/results/loader-imagenet.md).
//
// libjpeg reports errors by calling error_exit, which must not return: it longjmps back to decode(),
// which frees everything and returns the message. Warnings (corrupt or truncated data, which libjpeg
// would otherwise paper over with grey) are errors too, as sharp's failOn: 'warning' makes them.
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <jpeglib.h>
#include <jerror.h>
#include <string>
#include <vector>
#include "errors.h"
#include "resample.h"

namespace senet {

namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void onError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void onMessage(j_common_ptr cinfo, int level) {
  if (level < 0) onError(cinfo);  // a warning: the data is corrupt
}

const char* colourSpaceName(J_COLOR_SPACE space) {
  switch (space) {
    case JCS_GRAYSCALE: return "grayscale";
    case JCS_RGB: return "rgb";
    case JCS_YCbCr: return "ycbcr";
    case JCS_CMYK: return "cmyk";
    case JCS_YCCK: return "ycck";
    default: return "unknown";
  }
}

struct Header {
  int width = 0, height = 0, components = 0;
  const char* colourSpace = "unknown";
  bool progressive = false, icc = false;
};

struct Region {
  int denom = 1;                     // decode at 1/denom scale
  int left = 0, top = 0, width = 0, height = 0;  // in the scaled image's pixels
};

// Everything that a longjmp may jump over is plain data or owned by libjpeg's memory pools, which
// jpeg_destroy_decompress frees; `out` is sized before the jump target is set. Returns "" or the error.
std::string decode(const std::vector<uint8_t>& bytes, Header* header, const Region* region,
                   std::vector<uint8_t>* out) {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = onError;
  err.pub.emit_message = onMessage;
  if (region) out->resize(static_cast<size_t>(region->width) * region->height * 3);
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return err.message;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  if (header) jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xffff);
  jpeg_read_header(&cinfo, TRUE);
  if (header) {
    header->width = static_cast<int>(cinfo.image_width);
    header->height = static_cast<int>(cinfo.image_height);
    header->components = cinfo.num_components;
    header->colourSpace = colourSpaceName(cinfo.jpeg_color_space);
    header->progressive = cinfo.progressive_mode != 0;
    for (auto* m = cinfo.marker_list; m; m = m->next) {
      if (m->marker == JPEG_APP0 + 2 && m->data_length >= 12 && std::memcmp(m->data, "ICC_PROFILE", 12) == 0) {
        header->icc = true;
      }
    }
  }
  if (region) {
    cinfo.scale_num = 1;
    cinfo.scale_denom = static_cast<unsigned int>(region->denom);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (region->left + region->width > static_cast<int>(cinfo.output_width) ||
        region->top + region->height > static_cast<int>(cinfo.output_height)) {
      std::snprintf(err.message, sizeof err.message, "the region %dx%d at (%d, %d) is outside the %ux%u image",
                    region->width, region->height, region->left, region->top, cinfo.output_width,
                    cinfo.output_height);
      jpeg_destroy_decompress(&cinfo);
      return err.message;
    }
    // jpeg_crop_scanline widens the columns to whole iMCUs: `x` becomes the first column decoded.
    JDIMENSION x = static_cast<JDIMENSION>(region->left), width = static_cast<JDIMENSION>(region->width);
    if (width < cinfo.output_width) jpeg_crop_scanline(&cinfo, &x, &width);
    const size_t skip = (static_cast<size_t>(region->left) - x) * 3, rowBytes = static_cast<size_t>(region->width) * 3;
    JSAMPARRAY row = (*cinfo.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&cinfo), JPOOL_IMAGE,
                                                cinfo.output_width * 3, 1);
    if (region->top > 0) jpeg_skip_scanlines(&cinfo, static_cast<JDIMENSION>(region->top));
    for (int y = 0; y < region->height; ++y) {
      if (jpeg_read_scanlines(&cinfo, row, 1) != 1) ERREXIT(&cinfo, JERR_INPUT_EMPTY);
      std::memcpy(out->data() + y * rowBytes, row[0] + skip, rowBytes);
    }
    // The rows below are entropy-decoded too (no inverse DCT), so that corrupt or truncated data anywhere
    // in the file is an error, as it is when the whole image is decoded.
    // (Skipping up to the last row would only mark the image done, so the last row is read.)
    JDIMENSION rest = cinfo.output_height - cinfo.output_scanline;
    if (rest > 1) jpeg_skip_scanlines(&cinfo, rest - 1);
    if (rest > 0) jpeg_read_scanlines(&cinfo, row, 1);
    jpeg_finish_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  return "";
}

std::vector<uint8_t> bytesOf(const Napi::Value& value, const char* what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throwType(value.Env(), std::string(what) + ": expected the JPEG file's bytes as a Buffer or Uint8Array");
  }
  auto array = value.As<Napi::Uint8Array>();
  return std::vector<uint8_t>(array.Data(), array.Data() + array.ByteLength());
}

int intArg(const Napi::CallbackInfo& info, size_t i, int min, const char* name) {
  double d = info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : -1;
  if (!(d >= min && d <= 1 << 30) || d != static_cast<int>(d)) {
    throwType(info.Env(), std::string("decodeJpegAsync: ") + name + " must be an integer of at least " +
                              std::to_string(min));
  }
  return static_cast<int>(d);
}

// jpegHeader(bytes) -> { width, height, components, colourSpace, progressive, icc }; throws libjpeg's message.
Napi::Value JpegHeader(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto bytes = bytesOf(info[0], "jpegHeader");
  Header header;
  std::string error = decode(bytes, &header, nullptr, nullptr);
  if (!error.empty()) throw Napi::Error::New(env, error);
  auto out = Napi::Object::New(env);
  out.Set("width", header.width);
  out.Set("height", header.height);
  out.Set("components", header.components);
  out.Set("colourSpace", header.colourSpace);
  out.Set("progressive", header.progressive);
  out.Set("icc", header.icc);
  return out;
}

class JpegWorker : public Napi::AsyncWorker {
 public:
  JpegWorker(Napi::Env env, std::vector<uint8_t> bytes, Region region, int outWidth, int outHeight, bool flip)
      : Napi::AsyncWorker(env), bytes_(std::move(bytes)), region_(region), outWidth_(outWidth),
        outHeight_(outHeight), flip_(flip), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      std::vector<uint8_t> region;
      std::string error = decode(bytes_, nullptr, &region_, &region);
      if (!error.empty()) return SetError(error);
      pixels_.resize(static_cast<size_t>(outWidth_) * outHeight_ * 3);
      resizeBilinearAntialiased(region.data(), region_.width, region_.height, 3, pixels_.data(), outWidth_,
                                outHeight_, flip_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  // The pixels are handed to JS without a copy: the Buffer owns the vector and frees it when collected.
  void OnOK() override {
    auto* owned = new std::vector<uint8_t>(std::move(pixels_));
    deferred_.Resolve(Napi::Buffer<uint8_t>::New(Env(), owned->data(), owned->size(),
                                                 [](Napi::Env, uint8_t*, std::vector<uint8_t>* v) { delete v; }, owned));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::vector<uint8_t> bytes_;
  Region region_;
  int outWidth_, outHeight_;
  bool flip_;
  std::vector<uint8_t> pixels_;
  Napi::Promise::Deferred deferred_;
};

// decodeJpegAsync(bytes, denom, left, top, width, height, outWidth, outHeight, flip) -> Promise<Buffer>:
// the region (in the 1/denom-scaled image's pixels) as outHeight×outWidth×3 RGB bytes, mirrored if asked.
Napi::Value DecodeJpegAsync(const Napi::CallbackInfo& info) {
  auto bytes = bytesOf(info[0], "decodeJpegAsync");
  Region region;
  region.denom = intArg(info, 1, 1, "denom");
  if (region.denom != 1 && region.denom != 2 && region.denom != 4 && region.denom != 8) {
    throwType(info.Env(), "decodeJpegAsync: denom must be 1, 2, 4 or 8");
  }
  region.left = intArg(info, 2, 0, "left");
  region.top = intArg(info, 3, 0, "top");
  region.width = intArg(info, 4, 1, "width");
  region.height = intArg(info, 5, 1, "height");
  int outWidth = intArg(info, 6, 1, "outWidth"), outHeight = intArg(info, 7, 1, "outHeight");
  auto* worker = new JpegWorker(info.Env(), std::move(bytes), region, outWidth, outHeight, info[8].ToBoolean());
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

void registerJpegFunctions(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "jpegHeader", JpegHeader);
  exportFn(env, exports, "decodeJpegAsync", DecodeJpegAsync);
}

}  // namespace senet
