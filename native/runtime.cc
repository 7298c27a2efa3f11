// Process-wide engine settings: random seeds and generators, thread counts, build information.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <cmath>
#include <mutex>
#include "errors.h"
#include "handle.h"

namespace senet {
namespace {

// Seeds are 64-bit unsigned; like torch.manual_seed, a negative seed means its two's complement (-1 is
// 2^64 - 1), so that the same seed gives the same stream as in PyTorch.
uint64_t readSeed(const Napi::Value& value, const char* what) {
  if (value.IsBigInt()) {
    bool lossless = false;
    uint64_t u = value.As<Napi::BigInt>().Uint64Value(&lossless);
    if (lossless) return u;
    int64_t i = value.As<Napi::BigInt>().Int64Value(&lossless);
    if (lossless) return static_cast<uint64_t>(i);
  } else if (value.IsNumber()) {
    double d = value.As<Napi::Number>().DoubleValue();
    if (std::fabs(d) <= 9007199254740991.0 && d == std::trunc(d)) {
      return d >= 0 ? static_cast<uint64_t>(d) : static_cast<uint64_t>(static_cast<int64_t>(d));
    }
  }
  throwType(value.Env(), std::string(what) + ": expected an integer seed (a number or bigint within 64 bits), got " +
                             value.ToString().Utf8Value());
}

at::Generator generatorArg(const Napi::Value& value, const char* what) {
  if (value.IsNull() || value.IsUndefined()) return at::detail::getDefaultCPUGenerator();
  return unwrapGenerator(value, what);
}

// manualSeed(seed, generator?): seeds that generator, or else the default CPU and CUDA generators.
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  uint64_t seed = readSeed(info[0], "manualSeed");
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    auto gen = unwrapGenerator(info[1], "manualSeed");
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
    return info.Env().Undefined();
  }
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  const auto& cuda = at::detail::getCUDAHooks();
  for (int64_t i = 0; i < cuda.getNumGPUs(); ++i) {
    auto gen = cuda.getDefaultCUDAGenerator(i);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  return info.Env().Undefined();
}

Napi::Value NewGenerator(const Napi::CallbackInfo& info) {
  uint64_t seed = info[0].IsUndefined() ? c10::detail::getNonDeterministicRandom() : readSeed(info[0], "Generator");
  return wrapGenerator(info.Env(), at::make_generator<at::CPUGeneratorImpl>(seed));
}

// generatorState(generator | null) -> uint8 tensor: the full state, for checkpoints.
Napi::Value GeneratorState(const Napi::CallbackInfo& info) {
  auto gen = generatorArg(info[0], "generatorState");
  std::lock_guard<std::mutex> lock(gen.mutex());
  return wrapTensor(info.Env(), at::Tensor(gen.get_state()));
}

Napi::Value SetGeneratorState(const Napi::CallbackInfo& info) {
  auto gen = generatorArg(info[0], "setGeneratorState");
  const at::Tensor& state = unwrapTensor(info[1], "setGeneratorState");
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
  return info.Env().Undefined();
}

Napi::Value GeneratorSeed(const Napi::CallbackInfo& info) {
  auto gen = generatorArg(info[0], "generatorSeed");
  return Napi::BigInt::New(info.Env(), static_cast<uint64_t>(gen.current_seed()));
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 1) {
    throwType(info.Env(), "setNumThreads: expected a positive integer");
  }
  at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

Napi::Value SetFlushDenormal(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::globalContext().setFlushDenormal(info[0].ToBoolean().Value()));
}

// setAutocastCpu(enabled, dtypeCode?): mixed precision on the CPU (torch.autocast('cpu')): while on,
// libtorch runs the ops it lists (convolutions, linear layers, ...) in `dtype` (bfloat16) on this thread.
Napi::Value SetAutocastCpu(const Napi::CallbackInfo& info) {
  bool enabled = info[0].ToBoolean().Value();
  if (info[1].IsNumber()) at::autocast::set_autocast_cpu_dtype(static_cast<at::ScalarType>(info[1].As<Napi::Number>().Int32Value()));
  if (!enabled) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(enabled);
  return info.Env().Undefined();
}

Napi::Value IsAutocastCpu(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), at::autocast::is_cpu_enabled());
}

// The quantized engine (at::QEngine) the quantized operators use: 'onednn', 'qnnpack', 'fbgemm' or 'x86',
// where this libtorch has it; setQEngine refuses the others (libtorch would throw later, at a first call).
const std::vector<std::pair<std::string, at::QEngine>>& qEngineNames() {
  static const std::vector<std::pair<std::string, at::QEngine>> names = {
      {"none", at::QEngine::NoQEngine}, {"fbgemm", at::QEngine::FBGEMM}, {"qnnpack", at::QEngine::QNNPACK},
      {"onednn", at::QEngine::ONEDNN}, {"x86", at::QEngine::X86}};
  return names;
}

std::string qEngineName(at::QEngine engine) {
  for (const auto& [name, e] : qEngineNames()) if (e == engine) return name;
  return "unknown";
}

Napi::Value SupportedQEngines(const Napi::CallbackInfo& info) {
  const auto& engines = at::globalContext().supportedQEngines();
  auto out = Napi::Array::New(info.Env(), engines.size());
  for (size_t i = 0; i < engines.size(); ++i) out.Set(i, qEngineName(engines[i]));
  return out;
}

Napi::Value QEngine(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), qEngineName(at::globalContext().qEngine()));
}

Napi::Value SetQEngine(const Napi::CallbackInfo& info) {
  std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  for (const auto& [n, engine] : qEngineNames()) {
    if (n != name) continue;
    const auto& supported = at::globalContext().supportedQEngines();
    if (std::find(supported.begin(), supported.end(), engine) == supported.end()) break;
    at::globalContext().setQEngine(engine);
    return info.Env().Undefined();
  }
  throwType(info.Env(), "setQEngine: expected one of the quantized engines this libtorch has");
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("torchVersion", std::to_string(SENET_TORCH_VERSION_MAJOR) + "." + std::to_string(SENET_TORCH_VERSION_MINOR) +
                              "." + std::to_string(SENET_TORCH_VERSION_PATCH));
  out.Set("cudaDevices", Napi::Number::New(env, static_cast<double>(at::detail::getCUDAHooks().getNumGPUs())));
  out.Set("mkldnn", Napi::Boolean::New(env, at::hasMKLDNN()));
  out.Set("cxx11Abi", Napi::Boolean::New(env, _GLIBCXX_USE_CXX11_ABI != 0));
  out.Set("parallelInfo", at::get_parallel_info());
  return out;
}

}  // namespace

void registerRuntimeFunctions(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "manualSeed", ManualSeed);
  exportFn(env, exports, "newGenerator", NewGenerator);
  exportFn(env, exports, "generatorState", GeneratorState);
  exportFn(env, exports, "setGeneratorState", SetGeneratorState);
  exportFn(env, exports, "generatorSeed", GeneratorSeed);
  exportFn(env, exports, "setNumThreads", SetNumThreads);
  exportFn(env, exports, "getNumThreads", GetNumThreads);
  exportFn(env, exports, "setFlushDenormal", SetFlushDenormal);
  exportFn(env, exports, "setAutocastCpu", SetAutocastCpu);
  exportFn(env, exports, "isAutocastCpu", IsAutocastCpu);
  exportFn(env, exports, "buildInfo", BuildInfo);
  exportFn(env, exports, "supportedQEngines", SupportedQEngines);
  exportFn(env, exports, "qEngine", QEngine);
  exportFn(env, exports, "setQEngine", SetQEngine);
}

}  // namespace senet
