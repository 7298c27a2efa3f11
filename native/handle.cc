#include "handle.h"
#include "errors.h"
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

namespace senet {
namespace {

struct StorageEntry {
  size_t handles;         // live handles referencing this storage
  size_t bytes;           // its size when first seen (what we told the GC)
  size_t guardedHandles;  // those of them under the GC safety net
};

std::unordered_map<const void*, StorageEntry> g_storages;
size_t g_handles = 0;
size_t g_bytes = 0;
// What only the GC safety net will free: guarded handles and the bytes of the storages they reference.
size_t g_guardedHandles = 0;
size_t g_guardedBytes = 0;
// The budget TS sets (setGcBudget): guard() says when the guarded handles or bytes pass it.
size_t g_budgetHandles = SIZE_MAX;
size_t g_budgetBytes = SIZE_MAX;

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

void track(Napi::Env env, TensorSlot& slot) {
  ++g_handles;
  const at::Tensor& t = slot.tensor;
  const void* key = storageKey(t);
  slot.storage = key;
  if (!key) return;
  auto it = g_storages.find(key);
  if (it != g_storages.end()) {
    ++it->second.handles;
    return;
  }
  size_t bytes = t.storage().nbytes();
  g_storages.emplace(key, StorageEntry{1, bytes, 0});
  g_bytes += bytes;
  reportExternal(env);
}

void untrack(TensorSlot& slot) {
  --g_handles;
  bool guarded = slot.guarded;
  slot.guarded = false;
  if (guarded) --g_guardedHandles;
  const void* key = slot.storage;
  slot.storage = nullptr;
  if (!key) return;
  auto it = g_storages.find(key);
  if (it == g_storages.end()) return;
  if (guarded && --it->second.guardedHandles == 0) g_guardedBytes -= it->second.bytes;
  if (--it->second.handles > 0) return;
  g_bytes -= it->second.bytes;
  g_storages.erase(it);
}

// The slot table. A deque keeps references to slots valid while it grows.
std::deque<TensorSlot> g_slots;
std::vector<uint32_t> g_freeSlots;

// A handle's External value: generation in the high 32 bits, slot index above a low tag bit of 1 (real
// pointers, such as a GeneratorHandle*, are aligned and so have it 0).
void* encode(uint32_t index, uint32_t generation) {
  return reinterpret_cast<void*>((static_cast<uintptr_t>(generation) << 32) | (static_cast<uintptr_t>(index) << 1) | 1u);
}

}  // namespace

Napi::Value wrapTensor(Napi::Env env, const at::Tensor& tensor) {
  if (!tensor.defined()) return env.Null();
  uint32_t index;
  if (!g_freeSlots.empty()) {
    index = g_freeSlots.back();
    g_freeSlots.pop_back();
  } else {
    index = static_cast<uint32_t>(g_slots.size());
    g_slots.emplace_back();
  }
  TensorSlot& slot = g_slots[index];
  slot.tensor = tensor;
  track(env, slot);
  napi_value external;
  NAPI_THROW_IF_FAILED(env, napi_create_external(env, encode(index, slot.generation), nullptr, nullptr, &external), Napi::Value());
  return Napi::Value(env, external);
}

namespace {
// The slot index a handle names (valid only after lookupTensor said Live or Disposed).
uint32_t slotIndex(const Napi::Value& value) {
  void* data = nullptr;
  napi_get_value_external(value.Env(), value, &data);
  return static_cast<uint32_t>((reinterpret_cast<uintptr_t>(data) & 0xffffffffu) >> 1);
}
}  // namespace

HandleState lookupTensor(const Napi::Value& value, TensorSlot** slot) {
  if (value.Type() != napi_external) return HandleState::NotATensor;
  void* data = nullptr;
  if (napi_get_value_external(value.Env(), value, &data) != napi_ok) return HandleState::NotATensor;
  auto bits = reinterpret_cast<uintptr_t>(data);
  if ((bits & 1u) == 0) return HandleState::NotATensor;
  uint32_t index = static_cast<uint32_t>((bits & 0xffffffffu) >> 1);
  uint32_t generation = static_cast<uint32_t>(bits >> 32);
  if (index >= g_slots.size()) return HandleState::NotATensor;
  TensorSlot& s = g_slots[index];
  if (s.generation != generation || !s.tensor.defined()) return HandleState::Disposed;
  *slot = &s;
  return HandleState::Live;
}

bool isTensorHandle(const Napi::Value& value) {
  TensorSlot* slot = nullptr;
  return lookupTensor(value, &slot) != HandleState::NotATensor;
}

const at::Tensor& unwrapTensor(const Napi::Value& value, const char* what) {
  TensorSlot* slot = nullptr;
  switch (lookupTensor(value, &slot)) {
    case HandleState::Live: return slot->tensor;
    case HandleState::Disposed: throwType(value.Env(), std::string(what) + ": the tensor was already disposed");
    default: throwType(value.Env(), std::string(what) + ": expected a tensor");
  }
}

namespace {
// Empties a live slot. Touches only C++ state, so the garbage collector may call it (freeUnreachable).
void releaseSlot(uint32_t index) {
  TensorSlot& slot = g_slots[index];
  untrack(slot);
  slot.tensor.reset();
  ++slot.generation;
  g_freeSlots.push_back(index);
}

// The GC safety net: a Node-API "basic" finaliser, which Node runs inside the garbage collection that
// found the handle unreachable (the module is built with NAPI_EXPERIMENTAL; without it, Node defers
// finalisers to the event loop, which a synchronous training loop never reaches). It frees the tensor
// unless dispose() already did (the slot's generation moved on), and must not call into JS or V8.
void freeUnreachable(node_api_basic_env, void* data, void*) {
  auto bits = reinterpret_cast<uintptr_t>(data);
  uint32_t index = static_cast<uint32_t>((bits & 0xffffffffu) >> 1);
  uint32_t generation = static_cast<uint32_t>(bits >> 32);
  if (index >= g_slots.size()) return;
  TensorSlot& slot = g_slots[index];
  if (slot.generation != generation || !slot.tensor.defined()) return;
  releaseSlot(index);
}
}  // namespace

void freeHandle(Napi::Env env, const Napi::Value& value) {
  TensorSlot* slot = nullptr;
  HandleState state = lookupTensor(value, &slot);
  if (state == HandleState::NotATensor) throwType(env, "free: expected a tensor");
  if (state != HandleState::Live) return;
  releaseSlot(slotIndex(value));
}

bool guardHandle(Napi::Env env, const Napi::Value& value) {
  TensorSlot* slot = nullptr;
  HandleState state = lookupTensor(value, &slot);
  if (state == HandleState::NotATensor) throwType(env, "guard: expected a tensor");
  if (state == HandleState::Live && !slot->guarded) {
    void* data = nullptr;
    napi_get_value_external(env, value, &data);
    NAPI_THROW_IF_FAILED(env, napi_add_finalizer(env, value, data, freeUnreachable, nullptr, nullptr), false);
    slot->guarded = true;
    ++g_guardedHandles;
    if (slot->storage) {
      StorageEntry& entry = g_storages.at(slot->storage);
      if (entry.guardedHandles++ == 0) g_guardedBytes += entry.bytes;
    }
  }
  return g_guardedHandles > g_budgetHandles || g_guardedBytes > g_budgetBytes;
}

Napi::Value wrapGenerator(Napi::Env env, const at::Generator& generator) {
  auto* handle = new GeneratorHandle();
  handle->generator = generator;
  return Napi::External<GeneratorHandle>::New(env, handle, [](Napi::Env, GeneratorHandle* h) { delete h; });
}

namespace {
// The kind tag of a pointer-valued External (generators, objects), or nullptr for tensor handles and others.
const HandleKind* kindOf(const Napi::Value& value) {
  if (value.Type() != napi_external) return nullptr;
  void* data = value.As<Napi::External<void>>().Data();
  if (!data || (reinterpret_cast<uintptr_t>(data) & 1u)) return nullptr;
  return static_cast<const HandleKind*>(data);  // both handle structs start with their kind
}

GeneratorHandle* generatorOf(const Napi::Value& value) {
  const HandleKind* kind = kindOf(value);
  return kind && *kind == HandleKind::Generator
             ? static_cast<GeneratorHandle*>(value.As<Napi::External<void>>().Data())
             : nullptr;
}
}  // namespace

Napi::Value wrapObject(Napi::Env env, const c10::IValue& object) {
  auto* handle = new ObjectHandle();
  handle->object = object;
  return Napi::External<ObjectHandle>::New(env, handle, [](Napi::Env, ObjectHandle* h) { delete h; });
}

const c10::IValue* objectOf(const Napi::Value& value) {
  const HandleKind* kind = kindOf(value);
  return kind && *kind == HandleKind::Object
             ? &static_cast<ObjectHandle*>(value.As<Napi::External<void>>().Data())->object
             : nullptr;
}

bool isObjectHandle(const Napi::Value& value) { return objectOf(value) != nullptr; }

bool isGeneratorHandle(const Napi::Value& value) { return generatorOf(value) != nullptr; }

at::Generator unwrapGenerator(const Napi::Value& value, const char* what) {
  auto* h = generatorOf(value);
  if (!h) throwType(value.Env(), std::string(what) + ": expected a random generator");
  return h->generator;
}

MemoryStats memoryStats() {
  return MemoryStats{g_handles, g_storages.size(), g_bytes, g_guardedHandles, g_guardedBytes};
}

namespace {

Napi::Value Free(const Napi::CallbackInfo& info) {
  freeHandle(info.Env(), info[0]);
  return info.Env().Undefined();
}

Napi::Value Guard(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), guardHandle(info.Env(), info[0]));
}

// setGcBudget(handles, bytes): from then on guard() returns true while more are guarded.
Napi::Value SetGcBudget(const Napi::CallbackInfo& info) {
  g_budgetHandles = static_cast<size_t>(info[0].As<Napi::Number>().DoubleValue());
  g_budgetBytes = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
  return info.Env().Undefined();
}

Napi::Value IsFreed(const Napi::CallbackInfo& info) {
  TensorSlot* slot = nullptr;
  HandleState state = lookupTensor(info[0], &slot);
  if (state == HandleState::NotATensor) throwType(info.Env(), "isFreed: expected a tensor");
  return Napi::Boolean::New(info.Env(), state == HandleState::Disposed);
}

Napi::Value Memory(const Napi::CallbackInfo& info) {
  auto stats = memoryStats();
  auto out = Napi::Object::New(info.Env());
  out.Set("tensors", Napi::Number::New(info.Env(), static_cast<double>(stats.handles)));
  out.Set("storages", Napi::Number::New(info.Env(), static_cast<double>(stats.storages)));
  out.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(stats.bytes)));
  out.Set("gcTensors", Napi::Number::New(info.Env(), static_cast<double>(stats.guardedHandles)));
  out.Set("gcBytes", Napi::Number::New(info.Env(), static_cast<double>(stats.guardedBytes)));
  return out;
}

}  // namespace

void registerHandleFunctions(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "free", Free);
  exportFn(env, exports, "guard", Guard);
  exportFn(env, exports, "setGcBudget", SetGcBudget);
  exportFn(env, exports, "isFreed", IsFreed);
  exportFn(env, exports, "memory", Memory);
}

}  // namespace senet
