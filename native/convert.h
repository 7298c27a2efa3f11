// Conversion between JS values and libtorch IValues, driven by an operator's schema argument types.
#pragma once
#include <napi.h>
#include <ATen/core/function_schema.h>
#include <ATen/core/ivalue.h>
#include <string>

namespace senet {

enum class ArgKind : uint8_t {
  Tensor, TensorList, OptionalTensorList,
  Int, IntList, Float, FloatList, Bool, BoolList,
  Scalar, ScalarList, String, Device, Generator,
  Object,  // a custom-class instance (packed weights), carried as an opaque handle
  Unsupported,
};

// How to read one schema argument from JS, computed once per operator.
struct ArgSpec {
  std::string name;
  std::string typeName;  // as the schema prints it, for error messages
  ArgKind kind = ArgKind::Unsupported;
  bool optional = false;   // `T?`: null/undefined mean None
  int64_t listSize = 0;    // `int[2]`: a single number is repeated this many times
  bool hasDefault = false;
  // ScalarType, Layout and MemoryFormat arguments travel as ints; libtorch indexes tables with them
  // unchecked, so a value outside [0, enumLimit) is refused before the call (0: not an enum).
  int64_t enumLimit = 0;
  std::string enumName;  // ScalarType, Layout, MemoryFormat
  c10::TypePtr classType;  // Object: the class an argument must be an instance of
};

ArgSpec argSpecOf(const c10::Argument& arg);

// Converts `value` for `spec`; `op` names the operator in error messages.
c10::IValue toIValue(const Napi::Value& value, const ArgSpec& spec, const std::string& op);

// Converts an operator result back to JS (tensors become new handles, tuples and lists arrays).
Napi::Value fromIValue(Napi::Env env, const c10::IValue& value);

// A short description of a JS value's type, for error messages ("number 1.5", "string", "array", ...).
std::string describeJs(const Napi::Value& value);

}  // namespace senet
