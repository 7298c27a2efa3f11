// Stand-in for a header Debian's libtorch-dev leaves out. c10d's reducer.hpp (the DDP gradient Reducer, whose
// code is in libtorch_cpu) includes it only to name RPC's distributed-autograd context, which the Reducer holds
// through a shared_ptr; senet never uses distributed autograd, so declaring the names is enough and leaves the
// Reducer's layout as libtorch built it. This directory is searched after libtorch's own headers, so a libtorch
// that ships the real header uses it.
#pragma once
#include <ATen/core/Tensor.h>
#include <functional>
#include <memory>

namespace torch {
namespace distributed {
namespace autograd {

class DistAutogradContext {
 public:
  using GradCallback = std::function<bool(at::Tensor&)>;
};
using ContextPtr = std::shared_ptr<DistAutogradContext>;

}  // namespace autograd
}  // namespace distributed
}  // namespace torch
