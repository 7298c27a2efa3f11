// Moving tensor data between JS memory and libtorch, and reading a tensor's metadata.
#include <cmath>
#include <cstring>
#include "errors.h"
#include "handle.h"

namespace senet {
namespace {

std::vector<int64_t> readShape(const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throwType(value.Env(), std::string(what) + ": expected the shape as an array of integers");
  auto arr = value.As<Napi::Array>();
  std::vector<int64_t> shape(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr[i];
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    // Range first: casting a double of 2**63 or more to int64 is undefined behaviour.
    if (!(d >= 0 && d < 9223372036854775808.0) || d != std::floor(d)) {
      throwType(value.Env(), std::string(what) + ": shape entries must be integers from 0 to 2**63 - 1, got " +
                                 v.ToString().Utf8Value() + " at position " + std::to_string(i));
    }
    shape[i] = static_cast<int64_t>(d);
  }
  return shape;
}

// fromBuffer(bytes: ArrayBuffer | TypedArray | Buffer, shape: number[], dtype: number) -> tensor handle
// Copies the bytes into a new CPU tensor of that shape and scalar type.
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint8_t* data = nullptr;
  size_t length = 0;
  if (info[0].IsTypedArray()) {
    auto ta = info[0].As<Napi::TypedArray>();
    data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    length = ta.ByteLength();
  } else if (info[0].IsArrayBuffer()) {
    auto ab = info[0].As<Napi::ArrayBuffer>();
    data = static_cast<const uint8_t*>(ab.Data());
    length = ab.ByteLength();
  } else if (info[0].IsDataView()) {
    auto dv = info[0].As<Napi::DataView>();
    data = static_cast<const uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset();
    length = dv.ByteLength();
  } else {
    throwType(env, "fromBuffer: expected an ArrayBuffer, TypedArray or Buffer");
  }
  auto shape = readShape(info[1], "fromBuffer");
  if (!info[2].IsNumber()) throwType(env, "fromBuffer: expected a dtype code");
  int32_t code = info[2].As<Napi::Number>().Int32Value();
  if (code < 0 || code >= static_cast<int32_t>(at::ScalarType::NumOptions)) {
    throwType(env, "fromBuffer: " + std::to_string(code) + " is not a libtorch dtype code");
  }
  auto dtype = static_cast<at::ScalarType>(code);
  auto tensor = at::empty(shape, at::TensorOptions().dtype(dtype));
  size_t expected = tensor.nbytes();
  if (length != expected) {
    throwType(env, "fromBuffer: " + std::to_string(length) + " bytes given, but a " +
                       std::string(c10::toString(dtype)) + " tensor of shape " + c10::str(tensor.sizes()) +
                       " needs " + std::to_string(expected));
  }
  if (expected) std::memcpy(tensor.data_ptr(), data, expected);
  return wrapTensor(env, tensor);
}

// toBuffer(tensor) -> ArrayBuffer with the elements in row-major order (copied from any device/layout).
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  at::Tensor t = unwrapTensor(info[0], "toBuffer").detach().to(at::kCPU).contiguous();
  auto buffer = Napi::ArrayBuffer::New(info.Env(), t.nbytes());
  if (t.nbytes()) std::memcpy(buffer.Data(), t.data_ptr(), t.nbytes());
  return buffer;
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  const at::Tensor& t = unwrapTensor(info[0], "shape");
  auto sizes = t.sizes();
  auto arr = Napi::Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) arr.Set(i, Napi::Number::New(info.Env(), static_cast<double>(sizes[i])));
  return arr;
}

Napi::Value Strides(const Napi::CallbackInfo& info) {
  const at::Tensor& t = unwrapTensor(info[0], "stride");
  auto strides = t.strides();
  auto arr = Napi::Array::New(info.Env(), strides.size());
  for (size_t i = 0; i < strides.size(); ++i) arr.Set(i, Napi::Number::New(info.Env(), static_cast<double>(strides[i])));
  return arr;
}

// isContiguous(t, memoryFormatCode?)
Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  const at::Tensor& t = unwrapTensor(info[0], "isContiguous");
  auto format = info[1].IsNumber() ? static_cast<at::MemoryFormat>(info[1].As<Napi::Number>().Int32Value())
                                   : at::MemoryFormat::Contiguous;
  return Napi::Boolean::New(info.Env(), t.is_contiguous(format));
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<int>(unwrapTensor(info[0], "dtype").scalar_type()));
}

Napi::Value Device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), unwrapTensor(info[0], "device").device().str());
}

Napi::Value Numel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(unwrapTensor(info[0], "numel").numel()));
}

Napi::Value SameTensor(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), unwrapTensor(info[0], "sameTensor").is_same(unwrapTensor(info[1], "sameTensor")));
}

// The codes libtorch uses for each dtype, so TS never hard-codes c10::ScalarType's numbering.
Napi::Object scalarTypeCodes(Napi::Env env) {
  auto codes = Napi::Object::New(env);
  codes.Set("uint8", static_cast<int>(at::kByte));
  codes.Set("int8", static_cast<int>(at::kChar));
  codes.Set("int16", static_cast<int>(at::kShort));
  codes.Set("int32", static_cast<int>(at::kInt));
  codes.Set("int64", static_cast<int>(at::kLong));
  codes.Set("float16", static_cast<int>(at::kHalf));
  codes.Set("float32", static_cast<int>(at::kFloat));
  codes.Set("float64", static_cast<int>(at::kDouble));
  codes.Set("bool", static_cast<int>(at::kBool));
  codes.Set("bfloat16", static_cast<int>(at::kBFloat16));
  return codes;
}

Napi::Object memoryFormatCodes(Napi::Env env) {
  auto codes = Napi::Object::New(env);
  codes.Set("contiguous", static_cast<int>(at::MemoryFormat::Contiguous));
  codes.Set("preserve", static_cast<int>(at::MemoryFormat::Preserve));
  codes.Set("channelsLast", static_cast<int>(at::MemoryFormat::ChannelsLast));
  return codes;
}

}  // namespace

void registerTensorDataFunctions(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "fromBuffer", FromBuffer);
  exportFn(env, exports, "toBuffer", ToBuffer);
  exportFn(env, exports, "shape", Shape);
  exportFn(env, exports, "strides", Strides);
  exportFn(env, exports, "isContiguous", IsContiguous);
  exportFn(env, exports, "dtype", Dtype);
  exportFn(env, exports, "device", Device);
  exportFn(env, exports, "numel", Numel);
  exportFn(env, exports, "sameTensor", SameTensor);
  exports.Set("scalarTypes", scalarTypeCodes(env));
  exports.Set("memoryFormats", memoryFormatCodes(env));
}

}  // namespace senet
