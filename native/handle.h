// The one wrapper between JS and libtorch: a tensor handle is a Napi::External holding a TensorHandle.
// Handles are freed deterministically by `free` (from TS scopes / dispose) and, as a safety net, by the
// GC finaliser. Every live handle's storage is counted once (views share it), and the GC is told the
// true native size through AdjustExternalMemory.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>

namespace senet {

// Each handle starts with a kind tag, so that a generator handle passed where a tensor is expected (or
// any other External) is rejected with a clear error instead of being misread.
enum class HandleKind : uint32_t { Tensor = 0x5e7e7501, Generator = 0x5e7e7502 };

struct TensorHandle {
  HandleKind kind = HandleKind::Tensor;
  at::Tensor tensor;              // undefined once freed
  const void* storage = nullptr;  // the storage counted for it (stable even if the tensor is re-pointed)
};

struct GeneratorHandle {
  HandleKind kind = HandleKind::Generator;
  at::Generator generator;
};

// Wraps a tensor in a new handle; an undefined tensor becomes null.
Napi::Value wrapTensor(Napi::Env env, const at::Tensor& tensor);
// The tensor behind a handle; throws a TypeError naming `what` if it is not a live tensor handle.
const at::Tensor& unwrapTensor(const Napi::Value& value, const char* what);
bool isTensorHandle(const Napi::Value& value);
// Releases the tensor early (idempotent).
void freeHandle(Napi::Env env, TensorHandle* handle);
TensorHandle* handleOf(const Napi::Value& value, const char* what);

Napi::Value wrapGenerator(Napi::Env env, const at::Generator& generator);
bool isGeneratorHandle(const Napi::Value& value);
at::Generator unwrapGenerator(const Napi::Value& value, const char* what);

struct MemoryStats {
  size_t handles;   // live tensor handles
  size_t storages;  // distinct storages they reference
  size_t bytes;     // bytes of those storages
};
MemoryStats memoryStats();

void registerHandleFunctions(Napi::Env env, Napi::Object exports);

}  // namespace senet
