#include "handle.h"
#include "errors.h"
#include <unordered_map>

namespace senet {
namespace {

struct StorageEntry {
  size_t handles;  // live handles referencing this storage
  size_t bytes;    // its size when first seen (what we told the GC)
};

std::unordered_map<const void*, StorageEntry> g_storages;
size_t g_handles = 0;
size_t g_bytes = 0;

// The GC is told how much native memory the tensors hold, as a high-water mark: V8 starts a full
// (concurrent) collection whenever the external memory it was told about rises past its last level plus a
// margin. A training or inference loop allocates and frees its activations every step; reporting each
// rise and fall made V8 collect every few steps, its marking thread taking a core from libtorch's
// threads (inference ran 1.3-1.8x slower with 2 threads). Reporting only new highs (in 1 MiB steps)
// keeps a steady loop free of collections, while growth — such as tensors leaked without dispose —
// still reaches the GC, whose finalisers then free them.
int64_t g_reported = 0;
constexpr int64_t kReportStep = 1 << 20;

void reportExternal(Napi::Env env) {
  int64_t live = static_cast<int64_t>(g_bytes);
  if (live >= g_reported + kReportStep) {
    Napi::MemoryManagement::AdjustExternalMemory(env, live - g_reported);
    g_reported = live;
  }
}

const void* storageKey(const at::Tensor& t) {
  if (!t.defined() || !t.has_storage()) return nullptr;
  return t.storage().unsafeGetStorageImpl();
}

void track(Napi::Env env, TensorHandle* handle) {
  ++g_handles;
  const at::Tensor& t = handle->tensor;
  const void* key = storageKey(t);
  handle->storage = key;
  if (!key) return;
  auto it = g_storages.find(key);
  if (it != g_storages.end()) {
    ++it->second.handles;
    return;
  }
  size_t bytes = t.storage().nbytes();
  g_storages.emplace(key, StorageEntry{1, bytes});
  g_bytes += bytes;
  reportExternal(env);
}

void untrack(Napi::Env env, TensorHandle* handle) {
  --g_handles;
  const void* key = handle->storage;
  if (!key) return;
  auto it = g_storages.find(key);
  if (it == g_storages.end()) return;
  if (--it->second.handles > 0) return;
  g_bytes -= it->second.bytes;
  g_storages.erase(it);
}

template <typename T>
T* externalOf(const Napi::Value& value, HandleKind kind) {
  if (value.Type() != napi_external) return nullptr;
  T* p = value.As<Napi::External<T>>().Data();
  return (p && p->kind == kind) ? p : nullptr;
}

}  // namespace

void freeHandle(Napi::Env env, TensorHandle* handle) {
  if (!handle->tensor.defined()) return;
  untrack(env, handle);
  handle->tensor.reset();
}

Napi::Value wrapTensor(Napi::Env env, const at::Tensor& tensor) {
  if (!tensor.defined()) return env.Null();
  auto* handle = new TensorHandle();
  handle->tensor = tensor;
  track(env, handle);
  return Napi::External<TensorHandle>::New(env, handle, [](Napi::Env env, TensorHandle* h) {
    freeHandle(env, h);
    delete h;
  });
}

bool isTensorHandle(const Napi::Value& value) {
  return externalOf<TensorHandle>(value, HandleKind::Tensor) != nullptr;
}

TensorHandle* handleOf(const Napi::Value& value, const char* what) {
  auto* h = externalOf<TensorHandle>(value, HandleKind::Tensor);
  if (!h) throwType(value.Env(), std::string(what) + ": expected a tensor");
  return h;
}

const at::Tensor& unwrapTensor(const Napi::Value& value, const char* what) {
  auto* h = handleOf(value, what);
  if (!h->tensor.defined()) {
    throwType(value.Env(), std::string(what) + ": the tensor was already disposed");
  }
  return h->tensor;
}

Napi::Value wrapGenerator(Napi::Env env, const at::Generator& generator) {
  auto* handle = new GeneratorHandle();
  handle->generator = generator;
  return Napi::External<GeneratorHandle>::New(env, handle, [](Napi::Env, GeneratorHandle* h) { delete h; });
}

bool isGeneratorHandle(const Napi::Value& value) {
  return externalOf<GeneratorHandle>(value, HandleKind::Generator) != nullptr;
}

at::Generator unwrapGenerator(const Napi::Value& value, const char* what) {
  auto* h = externalOf<GeneratorHandle>(value, HandleKind::Generator);
  if (!h) throwType(value.Env(), std::string(what) + ": expected a random generator");
  return h->generator;
}

MemoryStats memoryStats() { return MemoryStats{g_handles, g_storages.size(), g_bytes}; }

namespace {

Napi::Value Free(const Napi::CallbackInfo& info) {
  freeHandle(info.Env(), handleOf(info[0], "free"));
  return info.Env().Undefined();
}

Napi::Value IsFreed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !handleOf(info[0], "isFreed")->tensor.defined());
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  auto stats = memoryStats();
  auto out = Napi::Object::New(info.Env());
  out.Set("tensors", Napi::Number::New(info.Env(), static_cast<double>(stats.handles)));
  out.Set("storages", Napi::Number::New(info.Env(), static_cast<double>(stats.storages)));
  out.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(stats.bytes)));
  return out;
}

}  // namespace

void registerHandleFunctions(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "free", Free);
  exportFn(env, exports, "isFreed", IsFreed);
  exportFn(env, exports, "memory", Memory);
}

}  // namespace senet
