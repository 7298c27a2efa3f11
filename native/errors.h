// Every entry point of the addon runs inside `guarded`, so a C++ exception never crashes Node:
// libtorch's c10::Error becomes a JS Error with its message (without the C++ backtrace), and any other
// std::exception becomes a JS Error with what() as message.
#pragma once
#include <napi.h>
#include <c10/util/Exception.h>
#include <string>

namespace senet {

// The message of a libtorch error, minus the "Exception raised from ..." trailer that points into C++.
std::string torchMessage(const c10::Error& e);

template <typename Body>
Napi::Value guarded(Napi::Env env, Body&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(env, torchMessage(e));
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  } catch (...) {
    throw Napi::Error::New(env, "unknown C++ exception in senet's native engine");
  }
}

// Registers `fn` as exports[name], wrapped in `guarded`.
using NativeFn = Napi::Value (*)(const Napi::CallbackInfo&);
void exportFn(Napi::Env env, Napi::Object exports, const char* name, NativeFn fn);

// Throws a JS TypeError with the given message (used for bad arguments coming from JS).
[[noreturn]] void throwType(Napi::Env env, const std::string& message);

}  // namespace senet
