// The one wrapper between JS and libtorch. A tensor handle is a Node-API External whose value encodes a
// slot in a table of tensors (index + generation); freeing a handle empties its slot and bumps the
// generation, so a stale handle is recognised as "already disposed" and never reaches a reused slot.
// Creating a handle allocates nothing on the C++ heap and registers no weak reference: deterministic
// freeing comes from TS scopes / dispose(). Only tensors that no scope owns are guarded (guardHandle): a
// Node-API finaliser frees them inside the garbage collection that finds the handle unreachable. Every live
// handle's storage is counted once (views share it) and V8 is told the native size.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>

namespace senet {

struct TensorSlot {
  at::Tensor tensor;              // undefined while the slot is free
  const void* storage = nullptr;  // the storage counted for it (stable even if the tensor is re-pointed)
  uint32_t generation = 1;        // bumped on free: handles of earlier generations are stale
  bool guarded = false;           // the GC frees it once its handle is unreachable (guardHandle)
};

// Wraps a tensor in a new handle; an undefined tensor becomes null.
Napi::Value wrapTensor(Napi::Env env, const at::Tensor& tensor);

enum class HandleState { NotATensor, Disposed, Live };
// What `value` is; for a live handle, *slot points at its slot (valid until the next wrap or free).
HandleState lookupTensor(const Napi::Value& value, TensorSlot** slot);
bool isTensorHandle(const Napi::Value& value);
// The tensor behind a handle; throws a TypeError naming `what` if it is not a live tensor handle.
const at::Tensor& unwrapTensor(const Napi::Value& value, const char* what);
// Releases the tensor (idempotent: freeing a stale handle does nothing).
void freeHandle(Napi::Env env, const Napi::Value& value);
// Puts a live tensor under the GC safety net: freed inside the garbage collection that finds its handle
// unreachable (idempotent; a stale handle is left alone). True when the guarded tensors pass the budget
// set by setGcBudget (TS then collects garbage).
bool guardHandle(Napi::Env env, const Napi::Value& value);

// Generators are few and long-lived: a plain External with a finaliser.
enum class HandleKind : uint32_t { Generator = 0x5e7e7502, Object = 0x5e7e7503 };
struct GeneratorHandle {
  HandleKind kind = HandleKind::Generator;
  at::Generator generator;
};
Napi::Value wrapGenerator(Napi::Env env, const at::Generator& generator);
bool isGeneratorHandle(const Napi::Value& value);
at::Generator unwrapGenerator(const Napi::Value& value, const char* what);

// A libtorch script object (a custom-class instance such as quantized::conv2d_prepack's packed weights):
// opaque to JS, passed back to the operators that take it; freed by the GC (a few per model layer).
struct ObjectHandle {
  HandleKind kind = HandleKind::Object;
  c10::IValue object;
};
Napi::Value wrapObject(Napi::Env env, const c10::IValue& object);
bool isObjectHandle(const Napi::Value& value);
// The object behind a handle, or nullptr when `value` is not an object handle.
const c10::IValue* objectOf(const Napi::Value& value);

struct MemoryStats {
  size_t handles;   // live tensor handles
  size_t storages;  // distinct storages they reference
  size_t bytes;     // bytes of those storages
  size_t guardedHandles;  // live handles only the GC safety net will free
  size_t guardedBytes;    // bytes of the storages they reference
};
MemoryStats memoryStats();

void registerHandleFunctions(Napi::Env env, Napi::Object exports);

}  // namespace senet
