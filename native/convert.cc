#include "convert.h"
#include "errors.h"
#include "handle.h"
#include <cmath>

namespace senet {
namespace {

ArgKind baseKind(const c10::TypePtr& type) {
  switch (type->kind()) {
    case c10::TypeKind::TensorType: return ArgKind::Tensor;
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType: return ArgKind::Int;
    case c10::TypeKind::FloatType: return ArgKind::Float;
    case c10::TypeKind::BoolType: return ArgKind::Bool;
    case c10::TypeKind::NumberType: return ArgKind::Scalar;
    case c10::TypeKind::StringType: return ArgKind::String;
    case c10::TypeKind::DeviceObjType: return ArgKind::Device;
    case c10::TypeKind::GeneratorType: return ArgKind::Generator;
    case c10::TypeKind::ClassType: return ArgKind::Object;
    case c10::TypeKind::ListType: {
      auto elem = type->expectRef<c10::ListType>().getElementType();
      if (elem->kind() == c10::TypeKind::OptionalType) {
        auto inner = elem->expectRef<c10::OptionalType>().getElementType();
        return inner->kind() == c10::TypeKind::TensorType ? ArgKind::OptionalTensorList : ArgKind::Unsupported;
      }
      switch (baseKind(elem)) {
        case ArgKind::Tensor: return ArgKind::TensorList;
        case ArgKind::Int: return ArgKind::IntList;
        case ArgKind::Float: return ArgKind::FloatList;
        case ArgKind::Bool: return ArgKind::BoolList;
        case ArgKind::Scalar: return ArgKind::ScalarList;
        default: return ArgKind::Unsupported;
      }
    }
    default: return ArgKind::Unsupported;
  }
}

[[noreturn]] void badArg(const Napi::Value& value, const ArgSpec& spec, const std::string& op,
                         const std::string& expected = "") {
  throwType(value.Env(), op + ": argument '" + spec.name + "' expects " +
                             (expected.empty() ? spec.typeName : expected) + ", got " + describeJs(value));
}

const char* const kInt64Range = "an integer in int64's range [-2**63, 2**63 - 1]";

int64_t toInt(const Napi::Value& value, const ArgSpec& spec, const std::string& op) {
  if (value.IsNumber()) {
    // Casting a double outside int64 to int64 is undefined behaviour (2**63 became -2**63 and libtorch
    // then failed with an internal assertion), so such integers are refused here, by name.
    double d = value.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && std::floor(d) == d) {
      if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return static_cast<int64_t>(d);
      badArg(value, spec, op, kInt64Range);
    }
  } else if (value.IsBigInt()) {
    bool lossless = false;
    int64_t v = value.As<Napi::BigInt>().Int64Value(&lossless);
    if (lossless) return v;
    badArg(value, spec, op, kInt64Range);
  }
  badArg(value, spec, op, "an integer");
}

double toFloat(const Napi::Value& value, const ArgSpec& spec, const std::string& op) {
  if (value.IsNumber()) return value.As<Napi::Number>().DoubleValue();
  badArg(value, spec, op, "a number");
}

bool toBool(const Napi::Value& value, const ArgSpec& spec, const std::string& op) {
  if (value.IsBoolean()) return value.As<Napi::Boolean>().Value();
  badArg(value, spec, op, "a boolean");
}

// The tensor an argument holds. The message is only built when something is wrong: this runs for every
// tensor argument of every call.
const at::Tensor& tensorArg(const Napi::Value& value, const ArgSpec& spec, const std::string& op, const char* expected) {
  TensorSlot* slot = nullptr;
  switch (lookupTensor(value, &slot)) {
    case HandleState::Live: return slot->tensor;
    case HandleState::Disposed: throwType(value.Env(), op + " argument '" + spec.name + "': the tensor was already disposed");
    default: badArg(value, spec, op, expected);
  }
}

// Integral JS numbers become integer scalars, as Python's `2` does: adding one to an int64 tensor keeps it
// int64, and a float tensor stays float either way.
c10::Scalar toScalar(const Napi::Value& value, const ArgSpec& spec, const std::string& op) {
  if (value.IsBoolean()) return c10::Scalar(value.As<Napi::Boolean>().Value());
  if (value.IsBigInt()) return c10::Scalar(toInt(value, spec, op));
  if (value.IsNumber()) {
    double d = value.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9007199254740992.0) {
      return c10::Scalar(static_cast<int64_t>(d));
    }
    return c10::Scalar(d);
  }
  badArg(value, spec, op, "a number or boolean");
}

Napi::Array asArray(const Napi::Value& value, const ArgSpec& spec, const std::string& op) {
  if (!value.IsArray()) badArg(value, spec, op);
  return value.As<Napi::Array>();
}

}  // namespace

ArgSpec argSpecOf(const c10::Argument& arg) {
  ArgSpec spec;
  spec.name = arg.name();
  spec.typeName = arg.type()->str();
  spec.hasDefault = arg.default_value().has_value();
  spec.listSize = arg.N().value_or(0);
  c10::TypePtr type = arg.type();
  if (type->kind() == c10::TypeKind::OptionalType) {
    spec.optional = true;
    type = type->expectRef<c10::OptionalType>().getElementType();
  }
  spec.kind = baseKind(type);
  if (spec.kind == ArgKind::Object) spec.classType = type;
  c10::TypePtr real = arg.real_type();
  if (real->kind() == c10::TypeKind::OptionalType) real = real->expectRef<c10::OptionalType>().getElementType();
  switch (real->kind()) {
    case c10::TypeKind::ScalarTypeType: spec.enumLimit = static_cast<int64_t>(at::ScalarType::NumOptions); break;
    case c10::TypeKind::LayoutType: spec.enumLimit = static_cast<int64_t>(at::Layout::NumOptions); break;
    case c10::TypeKind::MemoryFormatType: spec.enumLimit = static_cast<int64_t>(at::MemoryFormat::NumOptions); break;
    default: break;
  }
  if (spec.enumLimit > 0) spec.enumName = real->str();
  return spec;
}

std::string describeJs(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "boolean";
    case napi_number: return "number " + value.ToString().Utf8Value();
    case napi_string: return "string '" + value.As<Napi::String>().Utf8Value() + "'";
    case napi_bigint: return "bigint";
    case napi_external:
      if (isTensorHandle(value)) return "a tensor";
      if (isGeneratorHandle(value)) return "a generator";
      if (isObjectHandle(value)) return "an object of class " + objectOf(value)->type()->str();
      return "an external value";
    case napi_object: return value.IsArray() ? "an array" : "an object";
    case napi_function: return "a function";
    default: return "a value of another type";
  }
}

c10::IValue toIValue(const Napi::Value& value, const ArgSpec& spec, const std::string& op) {
  if (spec.optional && (value.IsUndefined() || value.IsNull())) return c10::IValue();
  switch (spec.kind) {
    case ArgKind::Tensor:
      return tensorArg(value, spec, op, "a tensor");
    case ArgKind::TensorList: {
      auto arr = asArray(value, spec, op);
      std::vector<at::Tensor> list;
      list.reserve(arr.Length());
      for (uint32_t i = 0; i < arr.Length(); ++i) {
        Napi::Value item = arr[i];
        list.push_back(tensorArg(item, spec, op, "a list of tensors"));
      }
      return c10::IValue(list);
    }
    case ArgKind::OptionalTensorList: {
      auto arr = asArray(value, spec, op);
      c10::List<c10::optional<at::Tensor>> list;
      list.reserve(arr.Length());
      for (uint32_t i = 0; i < arr.Length(); ++i) {
        Napi::Value item = arr[i];
        if (item.IsNull() || item.IsUndefined()) {
          list.push_back(c10::nullopt);
        } else {
          list.push_back(tensorArg(item, spec, op, "a list of tensors or nulls"));
        }
      }
      return c10::IValue(list);
    }
    case ArgKind::Int: {
      int64_t v = toInt(value, spec, op);
      if (spec.enumLimit > 0 && (v < 0 || v >= spec.enumLimit)) {
        badArg(value, spec, op, spec.enumName + " code from 0 to " + std::to_string(spec.enumLimit - 1));
      }
      return c10::IValue(v);
    }
    case ArgKind::IntList: {
      if (value.IsNumber() || value.IsBigInt()) {  // `int[2] stride=1` style: repeat the number
        int64_t v = toInt(value, spec, op);
        return c10::IValue(std::vector<int64_t>(spec.listSize > 0 ? spec.listSize : 1, v));
      }
      auto arr = asArray(value, spec, op);
      std::vector<int64_t> list(arr.Length());
      for (uint32_t i = 0; i < arr.Length(); ++i) list[i] = toInt(arr[i], spec, op);
      return c10::IValue(list);
    }
    case ArgKind::Float:
      return c10::IValue(toFloat(value, spec, op));
    case ArgKind::FloatList: {
      auto arr = asArray(value, spec, op);
      std::vector<double> list(arr.Length());
      for (uint32_t i = 0; i < arr.Length(); ++i) list[i] = toFloat(arr[i], spec, op);
      return c10::IValue(list);
    }
    case ArgKind::Bool:
      return c10::IValue(toBool(value, spec, op));
    case ArgKind::BoolList: {
      auto arr = asArray(value, spec, op);
      c10::List<bool> list;
      for (uint32_t i = 0; i < arr.Length(); ++i) list.push_back(toBool(arr[i], spec, op));
      return c10::IValue(list);
    }
    case ArgKind::Scalar:
      return c10::IValue(toScalar(value, spec, op));
    case ArgKind::ScalarList: {  // `Scalar[]` (the _foreach_ ops' per-tensor factors)
      auto arr = asArray(value, spec, op);
      c10::impl::GenericList list(c10::NumberType::get());
      list.reserve(arr.Length());
      for (uint32_t i = 0; i < arr.Length(); ++i) list.push_back(c10::IValue(toScalar(arr[i], spec, op)));
      return c10::IValue(list);
    }
    case ArgKind::String:
      if (!value.IsString()) badArg(value, spec, op, "a string");
      return c10::IValue(value.As<Napi::String>().Utf8Value());
    case ArgKind::Device: {
      const char* expected = "a device string such as 'cpu' or 'cuda:0'";
      if (!value.IsString()) badArg(value, spec, op, expected);
      try {
        return c10::IValue(c10::Device(value.As<Napi::String>().Utf8Value()));
      } catch (const c10::Error&) {  // an unparsable name is a bad argument, not an engine failure
        badArg(value, spec, op, expected);
      }
    }
    case ArgKind::Generator:
      if (!isGeneratorHandle(value)) badArg(value, spec, op, "a random generator");
      return c10::IValue(unwrapGenerator(value, op.c_str()));
    case ArgKind::Object: {
      // Checked here: a kernel casts the object to the class its schema names without looking.
      const c10::IValue* object = objectOf(value);
      if (!object || !object->type()->isSubtypeOf(*spec.classType)) badArg(value, spec, op, "an object of class " + spec.typeName);
      return *object;
    }
    case ArgKind::Unsupported:
      break;
  }
  throwType(value.Env(), op + ": argument '" + spec.name + "' has type " + spec.typeName +
                             ", which senet cannot pass from JavaScript");
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& value) {
  if (value.isNone()) return env.Null();
  if (value.isTensor()) return wrapTensor(env, value.toTensor());
  if (value.isInt()) return Napi::Number::New(env, static_cast<double>(value.toInt()));
  if (value.isDouble()) return Napi::Number::New(env, value.toDouble());
  if (value.isBool()) return Napi::Boolean::New(env, value.toBool());
  if (value.isString()) return Napi::String::New(env, value.toStringRef());
  if (value.isDevice()) return Napi::String::New(env, value.toDevice().str());
  if (value.isGenerator()) return wrapGenerator(env, value.toGenerator());
  if (value.isObject()) return wrapObject(env, value);
  if (value.isTensorList()) {
    auto list = value.toTensorList();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) arr.Set(i, wrapTensor(env, list.get(i)));
    return arr;
  }
  if (value.isTuple()) {
    const auto& elems = value.toTupleRef().elements();
    auto arr = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); ++i) arr.Set(i, fromIValue(env, elems[i]));
    return arr;
  }
  if (value.isList()) {
    auto list = value.toListRef();
    auto arr = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); ++i) arr.Set(i, fromIValue(env, list[i]));
    return arr;
  }
  throw Napi::Error::New(env, "cannot convert a libtorch value of type " + value.tagKind() + " to JavaScript");
}

}  // namespace senet
