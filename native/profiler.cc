// libtorch's CPU profiler (the "legacy" one that torch.autograd.profiler.profile uses without Kineto):
// every operator call through the c10 dispatcher opens and closes a RecordFunction, which the profiler
// records as a push/pop pair. This file only switches it on and off and hands the ranges to TypeScript;
// nesting, self time and summaries are worked out in src/torch/profiler.ts.
#include <torch/csrc/autograd/profiler_legacy.h>
#include <unordered_map>
#include "errors.h"

namespace senet {
namespace {

namespace legacy = torch::autograd::profiler;

Napi::Value ProfilerStart(const Napi::CallbackInfo& info) {
  if (torch::profiler::impl::profilerEnabled()) {
    throw Napi::Error::New(info.Env(), "profilerStart: the libtorch profiler is already running (profiles cannot be nested)");
  }
  // CPU times only: no input shapes, memory or stacks, which would add to the cost of every op.
  legacy::enableProfilerLegacy(legacy::ProfilerConfig(legacy::ProfilerState::CPU));
  return info.Env().Undefined();
}

// profilerStop() -> { callerThread, events: [{ name, startUs, endUs, thread }] }, times in µs since start.
// A range is paired by its RecordFunction handle, which its push and its pop share.
Napi::Value ProfilerStop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!torch::profiler::impl::profilerEnabled()) {
    throw Napi::Error::New(env, "profilerStop: the libtorch profiler is not running (call profilerStart first)");
  }
  legacy::thread_event_lists lists = legacy::disableProfilerLegacy();

  // The "__start_profile" mark is the time origin, as in PyTorch's own tables.
  double originUs = -1;
  for (const auto& list : lists) {
    for (const auto& e : list) {
      if (e.kind() == legacy::EventKind::Mark && std::string(e.name()) == "__start_profile") originUs = e.cpuUs();
    }
  }

  std::unordered_map<at::RecordFunctionHandle, const legacy::LegacyEvent*> open;
  auto events = Napi::Array::New(env);
  uint32_t count = 0;
  for (const auto& list : lists) {
    for (const auto& e : list) {
      if (e.kind() == legacy::EventKind::PushRange) {
        open[e.handle()] = &e;
        if (originUs < 0) originUs = e.cpuUs();
      } else if (e.kind() == legacy::EventKind::PopRange) {
        auto it = open.find(e.handle());
        if (it == open.end()) continue;  // a range opened before the profiler started
        const legacy::LegacyEvent& push = *it->second;
        auto event = Napi::Object::New(env);
        event.Set("name", push.name());
        event.Set("startUs", push.cpuUs() - originUs);
        event.Set("endUs", e.cpuUs() - originUs);
        event.Set("thread", static_cast<double>(push.threadId()));
        events[count++] = event;
        open.erase(it);
      }
    }
  }
  auto out = Napi::Object::New(env);
  out.Set("callerThread", static_cast<double>(at::RecordFunction::currentThreadId()));
  out.Set("events", events);
  return out;
}

}  // namespace

void registerProfilerFunctions(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "profilerStart", ProfilerStart);
  exportFn(env, exports, "profilerStop", ProfilerStop);
}

}  // namespace senet
