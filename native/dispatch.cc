// Calls any libtorch operator through the c10 dispatcher ("boxed" calls). TS asks once for an operator by
// its schema name ("aten::conv2d", overload "") and gets an id plus the argument list; after that each
// call converts the JS arguments by the cached argument specs, runs the operator (autograd included, as
// the dispatcher routes through libtorch's autograd kernels), and wraps the results.
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/GradMode.h>
#include <atomic>
#include <dlfcn.h>
#include <memory>
#include <unordered_map>
#include "convert.h"
#include "errors.h"
#include "handle.h"

namespace senet {
namespace {

struct OpEntry {
  c10::OperatorHandle handle;
  std::string name;  // "aten::add.Tensor", for error messages
  std::vector<ArgSpec> args;
  std::vector<c10::Argument> schemaArgs;  // for default values
  bool returnsSelf = false;  // in-place ops: the JS side already holds the result
};

std::vector<std::unique_ptr<OpEntry>> g_ops;
std::unordered_map<std::string, uint32_t> g_opIds;

bool returnsFirstArgumentWritten(const c10::FunctionSchema& schema) {
  if (schema.returns().size() != 1 || schema.arguments().empty()) return false;
  const auto* ret = schema.returns()[0].alias_info();
  const auto* self = schema.arguments()[0].alias_info();
  return ret && self && ret->isWrite() && self->isWrite() && ret->beforeSets() == self->beforeSets();
}

uint32_t lookup(const std::string& name, const std::string& overload) {
  std::string key = overload.empty() ? name : name + "." + overload;
  auto it = g_opIds.find(key);
  if (it != g_opIds.end()) return it->second;
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle) throw std::invalid_argument("unknown libtorch operator '" + key + "'");
  auto entry = std::make_unique<OpEntry>(OpEntry{*handle, key, {}, {}, false});
  const auto& schema = handle->schema();
  for (const auto& arg : schema.arguments()) {
    entry->args.push_back(argSpecOf(arg));
    entry->schemaArgs.push_back(arg);
  }
  entry->returnsSelf = returnsFirstArgumentWritten(schema);
  uint32_t id = static_cast<uint32_t>(g_ops.size());
  g_ops.push_back(std::move(entry));
  g_opIds.emplace(key, id);
  return id;
}

OpEntry& opOf(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throwType(info.Env(), "call: expected an operator id first");
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  if (id >= g_ops.size()) throwType(info.Env(), "call: unknown operator id " + std::to_string(id));
  return *g_ops[id];
}

// JS arguments info[1..] in schema order; missing trailing ones take the schema default.
std::vector<c10::IValue> buildStack(const Napi::CallbackInfo& info, const OpEntry& op) {
  size_t given = info.Length() - 1;
  if (given > op.args.size()) {
    throwType(info.Env(), op.name + ": takes " + std::to_string(op.args.size()) + " arguments, got " +
                              std::to_string(given));
  }
  std::vector<c10::IValue> stack;
  stack.reserve(op.args.size());
  for (size_t i = 0; i < op.args.size(); ++i) {
    const ArgSpec& spec = op.args[i];
    Napi::Value value = i < given ? info[i + 1] : info.Env().Undefined();
    if (value.IsUndefined()) {
      if (spec.hasDefault) {
        stack.push_back(*op.schemaArgs[i].default_value());
        continue;
      }
      if (!spec.optional) throwType(info.Env(), op.name + ": missing argument '" + spec.name + "'");
    }
    stack.push_back(toIValue(value, spec, op.name));
  }
  return stack;
}

Napi::Value resultOf(Napi::Env env, const OpEntry& op, const std::vector<c10::IValue>& stack) {
  if (op.returnsSelf || stack.empty()) return env.Undefined();
  if (stack.size() == 1) return fromIValue(env, stack[0]);
  auto arr = Napi::Array::New(env, stack.size());
  for (size_t i = 0; i < stack.size(); ++i) arr.Set(i, fromIValue(env, stack[i]));
  return arr;
}

Napi::Value OpInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throwType(env, "op: expected an operator name such as 'aten::add'");
  std::string overload = info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
  uint32_t id = lookup(info[0].As<Napi::String>().Utf8Value(), overload);
  const OpEntry& op = *g_ops[id];
  auto out = Napi::Object::New(env);
  out.Set("id", Napi::Number::New(env, id));
  out.Set("name", Napi::String::New(env, op.name));
  out.Set("schema", Napi::String::New(env, c10::toString(op.handle.schema())));
  auto args = Napi::Array::New(env, op.args.size());
  for (size_t i = 0; i < op.args.size(); ++i) {
    auto a = Napi::Object::New(env);
    a.Set("name", op.args[i].name);
    a.Set("type", op.args[i].typeName);
    a.Set("optional", op.args[i].optional);
    a.Set("hasDefault", op.args[i].hasDefault);
    a.Set("kwargOnly", op.schemaArgs[i].kwarg_only());
    args.Set(i, a);
  }
  out.Set("args", args);
  out.Set("returnsSelf", Napi::Boolean::New(env, op.returnsSelf));
  return out;
}

Napi::Value Call(const Napi::CallbackInfo& info) {
  OpEntry& op = opOf(info);
  auto stack = buildStack(info, op);
  op.handle.callBoxed(stack);
  return resultOf(info.Env(), op, stack);
}

// How many intra-op threads each background call uses, set from TypeScript (setAsyncOpThreads; senet uses
// 1 so that background work does not compete with the main thread's).
std::atomic<int> g_asyncOpThreads{1};

void useAsyncOpThreadsHere() {
  using SetThreads = void (*)(int);
  static auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  if (set) set(g_asyncOpThreads.load());
}

Napi::Value SetAsyncOpThreads(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 1) {
    throwType(info.Env(), "setAsyncOpThreads: expected a positive integer");
  }
  g_asyncOpThreads.store(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value GetAsyncOpThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), g_asyncOpThreads.load());
}

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, OpEntry& op, std::vector<c10::IValue> stack)
      : Napi::AsyncWorker(env), op_(op), stack_(std::move(stack)),
        gradEnabled_(c10::GradMode::is_enabled()), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      useAsyncOpThreadsHere();
      c10::AutoGradMode grad(gradEnabled_);
      op_.handle.callBoxed(stack_);
    } catch (const c10::Error& e) {
      SetError(torchMessage(e));
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown C++ exception in senet's native engine");
    }
  }
  void OnOK() override {
    try {
      deferred_.Resolve(resultOf(Env(), op_, stack_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  OpEntry& op_;
  std::vector<c10::IValue> stack_;
  bool gradEnabled_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value CallAsync(const Napi::CallbackInfo& info) {
  OpEntry& op = opOf(info);
  auto* worker = new OpWorker(info.Env(), op, buildStack(info, op));
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

void registerDispatchFunctions(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "op", OpInfo);
  exportFn(env, exports, "call", Call);
  exportFn(env, exports, "callAsync", CallAsync);
  exportFn(env, exports, "setAsyncOpThreads", SetAsyncOpThreads);
  exportFn(env, exports, "getAsyncOpThreads", GetAsyncOpThreads);
}

}  // namespace senet
