// senet's native engine: a thin Node-API layer over libtorch. It converts arguments, calls libtorch and
// wraps the results; every policy (defaults, shapes, validation, naming) lives in TypeScript.
#include <napi.h>
#include <c10/util/Logging.h>
#include "errors.h"

namespace senet {

void registerHandleFunctions(Napi::Env env, Napi::Object exports);
void registerDispatchFunctions(Napi::Env env, Napi::Object exports);
void registerTensorDataFunctions(Napi::Env env, Napi::Object exports);
void registerAutogradFunctions(Napi::Env env, Napi::Object exports);
void registerRuntimeFunctions(Napi::Env env, Napi::Object exports);
void registerAllocatorFunctions(Napi::Env env, Napi::Object exports);
void registerProfilerFunctions(Napi::Env env, Napi::Object exports);
void registerJpegFunctions(Napi::Env env, Napi::Object exports);
void registerDistributedFunctions(Napi::Env env, Napi::Object exports);

std::string torchMessage(const c10::Error& e) {
  std::string message = e.what_without_backtrace();
  // Some libtorch builds append "Exception raised from <function> at <file>:<line>" even here.
  auto pos = message.find("\nException raised from ");
  if (pos != std::string::npos) message.erase(pos);
  return message;
}

void exportFn(Napi::Env env, Napi::Object exports, const char* name, NativeFn fn) {
  exports.Set(name, Napi::Function::New(
                        env, [fn](const Napi::CallbackInfo& info) { return guarded(info.Env(), [&] { return fn(info); }); },
                        name));
}

void throwType(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }

}  // namespace senet

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Every c10::Error records and symbolises a C++ backtrace when it is made (milliseconds per error);
  // senet's messages leave backtraces out, so libtorch is asked for none and failing calls stay cheap.
  c10::SetStackTraceFetcher([] { return std::string(); });
  senet::registerHandleFunctions(env, exports);
  senet::registerDispatchFunctions(env, exports);
  senet::registerTensorDataFunctions(env, exports);
  senet::registerAutogradFunctions(env, exports);
  senet::registerRuntimeFunctions(env, exports);
  senet::registerAllocatorFunctions(env, exports);
  senet::registerProfilerFunctions(env, exports);
  senet::registerJpegFunctions(env, exports);
  senet::registerDistributedFunctions(env, exports);
  return exports;
}

NODE_API_MODULE(senet_native, Init)
