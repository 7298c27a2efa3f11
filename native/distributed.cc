// PyTorch's distributed engine (c10d) reached from JS: stores (TCPStore, FileStore, PrefixStore), Gloo
// process groups, their collectives, and the DDP Reducer. Everything that can block (rendezvous, waiting for a
// collective) runs on libuv's thread pool and resolves a promise, so the event loop goes on. Collectives are
// *issued* on the calling thread, in call order (c10d requires the same order on every rank), and only their
// completion is awaited in the background. Policy (init methods, env variables, avg, error wording) is in
// src/torch/distributed/.
// Gloo's headers come with Debian's libgloo-dev; libtorch's Gloo process group is compiled in libtorch_cpu either way.
#if __has_include(<gloo/context.h>)
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/reducer.hpp>
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include "errors.h"
#include "handle.h"

namespace senet {
namespace {

// A Node-API External holding one c10d object; the tag lets a wrong handle be told apart from a right one.
enum class DistKind : uint32_t { Store = 0xd157a001, Group = 0xd157a002, Reducer = 0xd157a003, Hooks = 0xd157a004 };

struct HookBuckets;

struct DistHandle {
  DistKind kind;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::unique_ptr<c10d::Reducer> reducer;
  std::shared_ptr<HookBuckets> hooks;
};

Napi::Value wrapDist(Napi::Env env, DistHandle* handle) {
  return Napi::External<DistHandle>::New(env, handle, [](Napi::Env, DistHandle* h) { delete h; });
}

DistHandle& unwrapDist(const Napi::Value& value, DistKind kind, const char* what) {
  if (value.IsExternal()) {
    auto* h = value.As<Napi::External<DistHandle>>().Data();
    if (h && h->kind == kind) return *h;
  }
  throwType(value.Env(), std::string(what) + ": expected a handle made by senet's distributed module");
}

std::chrono::milliseconds millis(const Napi::Value& value, const char* what) {
  if (!value.IsNumber() || value.As<Napi::Number>().DoubleValue() <= 0) {
    throwType(value.Env(), std::string(what) + ": expected a positive timeout in milliseconds");
  }
  return std::chrono::milliseconds(value.As<Napi::Number>().Int64Value());
}

std::string stringArg(const Napi::Value& value, const char* what) {
  if (!value.IsString()) throwType(value.Env(), std::string(what) + ": expected a string");
  return value.As<Napi::String>().Utf8Value();
}

std::vector<at::Tensor> tensorList(const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throwType(value.Env(), std::string(what) + ": expected an array of tensors");
  auto arr = value.As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(unwrapTensor(arr.Get(i), what));
  return out;
}

// Runs `body` on a libuv pool thread; `done` turns its outcome into the promise's value on the JS thread.
class BlockingWorker : public Napi::AsyncWorker {
 public:
  BlockingWorker(Napi::Env env, std::function<void()> body, std::function<Napi::Value(Napi::Env)> done)
      : Napi::AsyncWorker(env), body_(std::move(body)), done_(std::move(done)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      body_();
    } catch (const c10::Error& e) {
      SetError(torchMessage(e));
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown C++ exception in senet's distributed engine");
    }
  }
  void OnOK() override {
    try {
      deferred_.Resolve(done_(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::function<void()> body_;
  std::function<Napi::Value(Napi::Env)> done_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value runBlocking(Napi::Env env, std::function<void()> body, std::function<Napi::Value(Napi::Env)> done) {
  auto* worker = new BlockingWorker(env, std::move(body), std::move(done));
  auto promise = worker->promise();
  worker->Queue();
  return promise;
}

// tcpStore(host, port, isServer, worldSize, timeoutMs) -> Promise<store>. The server waits for all workers.
Napi::Value TcpStore(const Napi::CallbackInfo& info) {
  std::string host = stringArg(info[0], "tcpStore host");
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<uint16_t>(info[1].As<Napi::Number>().Uint32Value());
  opts.isServer = info[2].ToBoolean().Value();
  opts.numWorkers = static_cast<size_t>(info[3].As<Napi::Number>().Uint32Value());
  opts.waitWorkers = true;
  opts.timeout = millis(info[4], "tcpStore");
  opts.multiTenant = true;  // as torch.distributed's env:// and tcp:// rendezvous make it
  auto made = std::make_shared<c10::intrusive_ptr<c10d::Store>>();
  return runBlocking(
      info.Env(), [made, host, opts] { *made = c10::make_intrusive<c10d::TCPStore>(host, opts); },
      [made](Napi::Env env) { return wrapDist(env, new DistHandle{DistKind::Store, *made, {}, {}, {}}); });
}

// fileStore(path, worldSize, timeoutMs) -> store.
Napi::Value FileStoreNew(const Napi::CallbackInfo& info) {
  std::string path = stringArg(info[0], "fileStore path");
  int world = info[1].As<Napi::Number>().Int32Value();
  auto store = c10::make_intrusive<c10d::FileStore>(path, world);
  store->setTimeout(millis(info[2], "fileStore"));
  return wrapDist(info.Env(), new DistHandle{DistKind::Store, store, {}, {}, {}});
}

// prefixStore(prefix, store) -> store whose keys are prefixed.
Napi::Value PrefixStoreNew(const Napi::CallbackInfo& info) {
  std::string prefix = stringArg(info[0], "prefixStore prefix");
  auto& base = unwrapDist(info[1], DistKind::Store, "prefixStore");
  auto store = c10::make_intrusive<c10d::PrefixStore>(prefix, base.store);
  return wrapDist(info.Env(), new DistHandle{DistKind::Store, store, {}, {}, {}});
}

// storeAdd(store, key, amount) -> Promise<number>: the counter after adding (a network round trip).
Napi::Value StoreAdd(const Napi::CallbackInfo& info) {
  auto store = unwrapDist(info[0], DistKind::Store, "storeAdd").store;
  std::string key = stringArg(info[1], "storeAdd key");
  int64_t amount = info[2].As<Napi::Number>().Int64Value();
  auto result = std::make_shared<int64_t>(0);
  return runBlocking(
      info.Env(), [store, key, amount, result] { *result = store->add(key, amount); },
      [result](Napi::Env env) { return Napi::Number::New(env, static_cast<double>(*result)); });
}

// glooGroup(store, rank, worldSize, timeoutMs, interface, threads) -> Promise<group>: connects to every peer.
Napi::Value GlooGroup(const Napi::CallbackInfo& info) {
  auto store = unwrapDist(info[0], DistKind::Store, "glooGroup").store;
  int rank = info[1].As<Napi::Number>().Int32Value();
  int size = info[2].As<Napi::Number>().Int32Value();
  auto timeout = millis(info[3], "glooGroup");
  std::string iface = info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  int threads = info[5].As<Napi::Number>().Int32Value();
#ifdef USE_C10D_GLOO
  auto made = std::make_shared<c10::intrusive_ptr<c10d::ProcessGroup>>();
  return runBlocking(
      info.Env(),
      [made, store, rank, size, timeout, iface, threads] {
        auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
        opts->devices.push_back(iface.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                              : c10d::ProcessGroupGloo::createDeviceForInterface(iface));
        opts->threads = threads;
        // No setSequenceNumberForGroup here: torch.distributed calls it only after its store barrier, and rank 0
        // publishing the number before that would leave a PyTorch rank and this one waiting for each other.
        *made = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts);
      },
      [made](Napi::Env env) { return wrapDist(env, new DistHandle{DistKind::Group, {}, *made, {}, {}}); });
#else
  throw std::runtime_error(
      "this build of senet's native engine has no Gloo (gloo's headers were missing when it was built): "
      "install libgloo-dev (Debian) and run `npx node-gyp rebuild`");
#endif
}

// destroyGroup(group) -> Promise<void>: drains the group's queue and closes its connections in the background.
Napi::Value DestroyGroup(const Napi::CallbackInfo& info) {
  auto& handle = unwrapDist(info[0], DistKind::Group, "destroyGroup");
  auto group = std::move(handle.group);
  if (!group) return info.Env().Undefined();
  auto holder = std::make_shared<c10::intrusive_ptr<c10d::ProcessGroup>>(std::move(group));
  return runBlocking(
      info.Env(), [holder] { holder->reset(); }, [](Napi::Env env) { return env.Undefined(); });
}

c10d::ProcessGroup& groupOf(const Napi::Value& value, const char* what) {
  auto& handle = unwrapDist(value, DistKind::Group, what);
  if (!handle.group) throw std::runtime_error(std::string(what) + ": the process group was destroyed");
  return *handle.group;
}

// Waits for a collective in the background; `keep` holds the tensors it writes until it is done.
Napi::Value awaitWork(Napi::Env env, c10::intrusive_ptr<c10d::Work> work, std::vector<at::Tensor> keep) {
  return runBlocking(
      env, [work, keep] { work->wait(); }, [](Napi::Env env) { return env.Undefined(); });
}

c10d::ReduceOp reduceOpOf(const Napi::Value& value) {
  std::string name = stringArg(value, "reduce op");
  if (name == "sum") return c10d::ReduceOp::SUM;
  if (name == "product") return c10d::ReduceOp::PRODUCT;
  if (name == "min") return c10d::ReduceOp::MIN;
  if (name == "max") return c10d::ReduceOp::MAX;
  throwType(value.Env(), "reduce op: expected sum, product, min or max, got '" + name + "'");
}

// allReduce(group, tensor, op) -> Promise<void>, in place.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  auto& group = groupOf(info[0], "allReduce");
  std::vector<at::Tensor> tensors{unwrapTensor(info[1], "allReduce")};
  c10d::AllreduceOptions opts;
  opts.reduceOp = reduceOpOf(info[2]);
  return awaitWork(info.Env(), group.allreduce(tensors, opts), tensors);
}

// broadcast(group, tensor, src) -> Promise<void>, in place.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  auto& group = groupOf(info[0], "broadcast");
  std::vector<at::Tensor> tensors{unwrapTensor(info[1], "broadcast")};
  c10d::BroadcastOptions opts;
  opts.rootRank = info[2].As<Napi::Number>().Int64Value();
  return awaitWork(info.Env(), group.broadcast(tensors, opts), tensors);
}

// allGather(group, outputs[], input) -> Promise<void>: outputs[r] receives rank r's input.
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  auto& group = groupOf(info[0], "allGather");
  std::vector<std::vector<at::Tensor>> outputs{tensorList(info[1], "allGather")};
  std::vector<at::Tensor> inputs{unwrapTensor(info[2], "allGather")};
  auto work = group.allgather(outputs, inputs);
  auto keep = outputs[0];
  keep.push_back(inputs[0]);
  return awaitWork(info.Env(), work, keep);
}

// reduceScatter(group, output, inputs[], op) -> Promise<void>: output = reduction over ranks of inputs[rank].
Napi::Value ReduceScatter(const Napi::CallbackInfo& info) {
  auto& group = groupOf(info[0], "reduceScatter");
  std::vector<at::Tensor> outputs{unwrapTensor(info[1], "reduceScatter")};
  std::vector<std::vector<at::Tensor>> inputs{tensorList(info[2], "reduceScatter")};
  c10d::ReduceScatterOptions opts;
  opts.reduceOp = reduceOpOf(info[3]);
  auto work = group.reduce_scatter(outputs, inputs, opts);
  auto keep = inputs[0];
  keep.push_back(outputs[0]);
  return awaitWork(info.Env(), work, keep);
}

// barrier(group) -> Promise<void>.
Napi::Value Barrier(const Napi::CallbackInfo& info) {
  auto& group = groupOf(info[0], "barrier");
  return awaitWork(info.Env(), group.barrier(), {});
}

// monitoredBarrier(group, timeoutMs) -> Promise<void>: rank 0 names every rank that did not arrive in time.
Napi::Value MonitoredBarrier(const Napi::CallbackInfo& info) {
  auto& handle = unwrapDist(info[0], DistKind::Group, "monitoredBarrier");
  auto group = handle.group;
  if (!group) throw std::runtime_error("monitoredBarrier: the process group was destroyed");
  c10d::BarrierOptions opts;
  opts.timeout = millis(info[1], "monitoredBarrier");
  return runBlocking(
      info.Env(), [group, opts] { group->monitoredBarrier(opts, true); },
      [](Napi::Env env) { return env.Undefined(); });
}

// allReduceNow(group, tensor): sums in place and waits on this thread. Only for the middle of a synchronous
// computation that cannot await (SyncBatchNorm's forward); everything else uses the promise form.
Napi::Value AllReduceNow(const Napi::CallbackInfo& info) {
  auto& group = groupOf(info[0], "allReduceNow");
  std::vector<at::Tensor> tensors{unwrapTensor(info[1], "allReduceNow")};
  group.allreduce(tensors)->wait();
  return info.Env().Undefined();
}

// allReduceGradHook(group, tensor): when backward reaches `tensor`, its gradient is summed over the ranks
// before it flows on (SyncBatchNorm's statistics: every rank's loss depends on every rank's batch).
Napi::Value AllReduceGradHook(const Napi::CallbackInfo& info) {
  auto& handle = unwrapDist(info[0], DistKind::Group, "allReduceGradHook");
  if (!handle.group) throw std::runtime_error("allReduceGradHook: the process group was destroyed");
  at::Tensor t = unwrapTensor(info[1], "allReduceGradHook");
  auto group = handle.group;
  t.register_hook([group](const at::Tensor& grad) {
    std::vector<at::Tensor> summed{grad.clone()};
    group->allreduce(summed)->wait();
    return summed[0];
  });
  return info.Env().Undefined();
}

// What both gradient reducers are made from: (group, params[], bucketCapBytes, firstBucketCapBytes), and the
// buckets c10d assigns them (about 25 MiB, the first smaller), reversed: gradients arrive in about the reverse
// order of the parameters, so the last bucket is reduced first.
struct BucketRequest {
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::vector<at::Tensor> params;
  int64_t cap;
  int64_t firstCap;
  std::vector<bool> sparse;
  std::vector<std::vector<size_t>> buckets;
  std::vector<size_t> limits;
};

BucketRequest bucketRequest(const Napi::CallbackInfo& info, const char* what) {
  auto& handle = unwrapDist(info[0], DistKind::Group, what);
  if (!handle.group) throw std::runtime_error(std::string(what) + ": the process group was destroyed");
  BucketRequest r;
  r.group = handle.group;
  r.params = tensorList(info[1], what);
  r.cap = info[2].As<Napi::Number>().Int64Value();
  r.firstCap = info[3].As<Napi::Number>().Int64Value();
  r.sparse.assign(r.params.size(), false);
  auto assignment = c10d::compute_bucket_assignment_by_size(
      r.params, {static_cast<size_t>(r.firstCap), static_cast<size_t>(r.cap)}, r.sparse);
  r.buckets = std::get<0>(assignment);
  r.limits = std::get<1>(assignment);
  std::reverse(r.buckets.begin(), r.buckets.end());
  std::reverse(r.limits.begin(), r.limits.end());
  return r;
}

// reducer(group, params[], bucketCapBytes, firstBucketCapBytes) -> reducer: c10d's DDP gradient reducer. It
// hooks each parameter's gradient accumulator and all-reduces full buckets while backward still runs.
Napi::Value ReducerNew(const Napi::CallbackInfo& info) {
  auto r = bucketRequest(info, "reducer");
  std::unordered_map<size_t, std::string> names;
  auto reducer = std::make_unique<c10d::Reducer>(r.params, r.buckets, r.limits, r.group, r.sparse, r.cap, false,
                                                 false, names, r.firstCap);
  auto* out = new DistHandle{DistKind::Reducer, {}, r.group, std::move(reducer), {}};
  return wrapDist(info.Env(), out);
}

// reducerPrepare(reducer): the next backward all-reduces gradients (called before each synchronised backward).
Napi::Value ReducerPrepare(const Napi::CallbackInfo& info) {
  auto& handle = unwrapDist(info[0], DistKind::Reducer, "reducerPrepare");
  handle.reducer->prepare_for_forward();
  handle.reducer->prepare_for_backward({});
  return info.Env().Undefined();
}

// reducerBucketCount(reducer) -> number of gradient buckets (for tests and logs).
Napi::Value ReducerBuckets(const Napi::CallbackInfo& info) {
  auto& handle = unwrapDist(info[0], DistKind::Reducer, "reducerBuckets");
  auto buckets = handle.reducer->get_grad_buckets(false);
  return Napi::Number::New(info.Env(), static_cast<double>(buckets.size()));
}

// The alternative to c10d's Reducer that issue 15 asks to measure it against: gradient buckets all-reduced from
// autograd hooks of our own. A post hook on each parameter's gradient accumulator copies the accumulated gradient
// into its bucket's flat buffer; the bucket's all-reduce starts when its last gradient has arrived; a callback at
// the end of backward waits for every bucket and copies the averages back. Buckets and their order are the
// Reducer's (compute_bucket_assignment_by_size, reversed), so the two differ only in who does the bookkeeping.
struct HookBuckets {
  c10::intrusive_ptr<c10d::ProcessGroup> group;
  std::vector<at::Tensor> params;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // kept alive: they hold the hooks
  std::vector<std::vector<size_t>> buckets;                          // parameter indices of each bucket
  std::vector<std::pair<size_t, int64_t>> place;                     // parameter -> (bucket, offset)
  std::vector<at::Tensor> flat;
  std::vector<size_t> pending;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  bool armed = false;
  bool finishing = false;

  void prepare() {
    armed = true;
    finishing = false;
    for (size_t b = 0; b < buckets.size(); ++b) pending[b] = buckets[b].size();
    works.assign(buckets.size(), {});
  }

  void gradReady(size_t i) {
    if (!armed) return;
    auto [b, offset] = place[i];
    const auto& grad = params[i].grad();
    auto slot = flat[b].narrow(0, offset, params[i].numel());
    if (grad.defined()) slot.copy_(grad.reshape({-1}));
    else slot.zero_();
    if (--pending[b] == 0) launch(b);
    if (!finishing) {
      finishing = true;
      std::weak_ptr<HookBuckets> self = selfRef;
      torch::autograd::Engine::get_default_engine().queue_callback([self] {
        if (auto s = self.lock()) s->finish();
      });
    }
  }

  void launch(size_t b) {
    std::vector<at::Tensor> tensors{flat[b]};
    works[b] = group->allreduce(tensors);
  }

  void finish() {
    armed = false;
    const double world = static_cast<double>(group->getSize());
    for (size_t b = 0; b < buckets.size(); ++b) {
      if (!works[b]) {  // a bucket with parameters backward did not reach: their gradients count as zero
        for (auto i : buckets[b])
          if (!params[i].grad().defined()) flat[b].narrow(0, place[i].second, params[i].numel()).zero_();
        launch(b);
      }
      works[b]->wait();
      flat[b].div_(world);
      for (auto i : buckets[b]) {
        auto avg = flat[b].narrow(0, place[i].second, params[i].numel()).view(params[i].sizes());
        if (params[i].grad().defined()) params[i].mutable_grad().copy_(avg);
        else params[i].mutable_grad() = avg.clone();
      }
    }
  }

  std::weak_ptr<HookBuckets> selfRef;
};

// hookBuckets(group, params[], bucketCapBytes, firstBucketCapBytes) -> handle (see HookBuckets).
Napi::Value HookBucketsNew(const Napi::CallbackInfo& info) {
  auto r = bucketRequest(info, "hookBuckets");
  const auto& params = r.params;
  const auto& buckets = r.buckets;
  auto state = std::make_shared<HookBuckets>();
  state->selfRef = state;
  state->group = r.group;
  state->params = params;
  state->buckets = buckets;
  state->place.resize(params.size());
  for (size_t b = 0; b < buckets.size(); ++b) {
    int64_t offset = 0;
    for (auto i : buckets[b]) {
      state->place[i] = {b, offset};
      offset += params[i].numel();
    }
    state->flat.push_back(at::empty({offset}, params[buckets[b][0]].options()));
  }
  state->pending.resize(buckets.size());
  std::weak_ptr<HookBuckets> weak = state;
  for (size_t i = 0; i < params.size(); ++i) {
    auto accumulator = torch::autograd::impl::grad_accumulator(params[i]);
    accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [weak, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          if (auto s = weak.lock()) s->gradReady(i);
          return outputs;
        }));
    state->accumulators.push_back(std::move(accumulator));
  }
  auto* out = new DistHandle{DistKind::Hooks, {}, r.group, nullptr, state};
  return wrapDist(info.Env(), out);
}

// hookBucketsPrepare(handle): the next backward all-reduces gradients.
Napi::Value HookBucketsPrepare(const Napi::CallbackInfo& info) {
  unwrapDist(info[0], DistKind::Hooks, "hookBucketsPrepare").hooks->prepare();
  return info.Env().Undefined();
}

}  // namespace

void registerDistributedFunctions(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "distTcpStore", TcpStore);
  exportFn(env, exports, "distFileStore", FileStoreNew);
  exportFn(env, exports, "distPrefixStore", PrefixStoreNew);
  exportFn(env, exports, "distStoreAdd", StoreAdd);
  exportFn(env, exports, "distGlooGroup", GlooGroup);
  exportFn(env, exports, "distDestroyGroup", DestroyGroup);
  exportFn(env, exports, "distAllReduce", AllReduce);
  exportFn(env, exports, "distBroadcast", Broadcast);
  exportFn(env, exports, "distAllGather", AllGather);
  exportFn(env, exports, "distReduceScatter", ReduceScatter);
  exportFn(env, exports, "distBarrier", Barrier);
  exportFn(env, exports, "distMonitoredBarrier", MonitoredBarrier);
  exportFn(env, exports, "distAllReduceNow", AllReduceNow);
  exportFn(env, exports, "distAllReduceGradHook", AllReduceGradHook);
  exportFn(env, exports, "distReducer", ReducerNew);
  exportFn(env, exports, "distReducerPrepare", ReducerPrepare);
  exportFn(env, exports, "distReducerBuckets", ReducerBuckets);
  exportFn(env, exports, "distHookBuckets", HookBucketsNew);
  exportFn(env, exports, "distHookBucketsPrepare", HookBucketsPrepare);
}

}  // namespace senet
