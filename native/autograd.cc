// Autograd entry points that are not dispatcher operators: requires_grad, .grad, backward, grad mode.
#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/variable.h>
#include "errors.h"
#include "handle.h"

namespace senet {
namespace {

std::vector<at::Tensor> tensorList(const Napi::Value& value, const char* what) {
  if (!value.IsArray()) throwType(value.Env(), std::string(what) + ": expected an array of tensors");
  auto arr = value.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value item = arr[i];
    out.push_back(item.IsNull() || item.IsUndefined() ? at::Tensor() : unwrapTensor(item, what));
  }
  return out;
}

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), unwrapTensor(info[0], "requiresGrad").requires_grad());
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  at::Tensor t = unwrapTensor(info[0], "setRequiresGrad");
  t.set_requires_grad(info[1].ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), unwrapTensor(info[0], "isLeaf").is_leaf());
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  return wrapTensor(info.Env(), unwrapTensor(info[0], "grad").grad());
}

// setGrad(t, g | null): replaces t.grad (null clears it, as zero_grad(set_to_none=True) does).
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  at::Tensor t = unwrapTensor(info[0], "setGrad");
  t.mutable_grad() = (info[1].IsNull() || info[1].IsUndefined()) ? at::Tensor() : unwrapTensor(info[1], "setGrad");
  return info.Env().Undefined();
}

Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  unwrapTensor(info[0], "retainGrad").retain_grad();
  return info.Env().Undefined();
}

Napi::Value GradFnName(const Napi::CallbackInfo& info) {
  const at::Tensor& t = unwrapTensor(info[0], "gradFn");
  auto fn = torch::autograd::impl::grad_fn_unsafe(t);
  if (!fn) return info.Env().Null();
  return Napi::String::New(info.Env(), fn->name());
}

// backward(outputs, gradOutputs | null, retainGraph, createGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  auto outputs = tensorList(info[0], "backward");
  std::vector<at::Tensor> grads;
  if (info[1].IsArray()) grads = tensorList(info[1], "backward");
  c10::optional<bool> retain;
  if (info[2].IsBoolean()) retain = info[2].As<Napi::Boolean>().Value();
  bool create = info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  torch::autograd::backward(outputs, grads, retain, create);
  return info.Env().Undefined();
}

// grad(outputs, inputs, gradOutputs | null, retainGraph, createGraph, allowUnused) -> (tensor | null)[]
Napi::Value AutogradGrad(const Napi::CallbackInfo& info) {
  auto outputs = tensorList(info[0], "grad");
  auto inputs = tensorList(info[1], "grad");
  std::vector<at::Tensor> gradOutputs;
  if (info[2].IsArray()) gradOutputs = tensorList(info[2], "grad");
  c10::optional<bool> retain;
  if (info[3].IsBoolean()) retain = info[3].As<Napi::Boolean>().Value();
  bool create = info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  bool allowUnused = info[5].IsBoolean() && info[5].As<Napi::Boolean>().Value();
  auto result = torch::autograd::grad(outputs, inputs, gradOutputs, retain, create, allowUnused);
  auto arr = Napi::Array::New(info.Env(), result.size());
  for (size_t i = 0; i < result.size(); ++i) arr.Set(i, wrapTensor(info.Env(), result[i]));
  return arr;
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  c10::GradMode::set_enabled(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

}  // namespace

void registerAutogradFunctions(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "requiresGrad", RequiresGrad);
  exportFn(env, exports, "setRequiresGrad", SetRequiresGrad);
  exportFn(env, exports, "isLeaf", IsLeaf);
  exportFn(env, exports, "grad", Grad);
  exportFn(env, exports, "setGrad", SetGrad);
  exportFn(env, exports, "retainGrad", RetainGrad);
  exportFn(env, exports, "gradFn", GradFnName);
  exportFn(env, exports, "backward", Backward);
  exportFn(env, exports, "autogradGrad", AutogradGrad);
  exportFn(env, exports, "isGradEnabled", IsGradEnabled);
  exportFn(env, exports, "setGradEnabled", SetGradEnabled);
}

}  // namespace senet
