#include "args.h"

#include <cmath>

namespace lowbit_addon {

Args::Args(const Napi::CallbackInfo& info, const char* fn, size_t count) : info_(info), fn_(fn) {
  if (count > 16) lowbit_addon::fail(info.Env(), kInternal, "too many arguments declared");
  if (info.Length() != count) {
    lowbit_addon::fail(info.Env(), kArg, std::string(fn) + ": expected " + std::to_string(count) +
                                             " arguments, got " + std::to_string(info.Length()));
  }
  for (size_t i = 0; i < count; ++i) values_[i] = info[i];
}

void Args::fail(const char* code, const std::string& message) const {
  lowbit_addon::fail(info_.Env(), code, std::string(fn_) + ": " + message);
}

size_t Args::size(size_t i, const char* what) const {
  if (!values_[i].IsNumber()) fail(kArg, std::string(what) + " must be a number");
  const double v = values_[i].As<Napi::Number>().DoubleValue();
  if (!(v >= 0) || v != std::floor(v) || v > 9007199254740991.0) {
    fail(kRange, std::string(what) + " must be a non-negative integer, got " + std::to_string(v));
  }
  return static_cast<size_t>(v);
}

int32_t Args::int32(size_t i, const char* what, int64_t lo, int64_t hi) const {
  if (!values_[i].IsNumber()) fail(kArg, std::string(what) + " must be a number");
  const double v = values_[i].As<Napi::Number>().DoubleValue();
  if (!(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)) || v != std::floor(v)) {
    fail(kRange, std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "], got " + std::to_string(v));
  }
  return static_cast<int32_t>(v);
}

bool Args::boolean(size_t i, const char* what) const {
  if (!values_[i].IsBoolean()) fail(kArg, std::string(what) + " must be a boolean");
  return values_[i].As<Napi::Boolean>().Value();
}

std::string Args::string(size_t i, const char* what) const {
  if (!values_[i].IsString()) fail(kArg, std::string(what) + " must be a string");
  return values_[i].As<Napi::String>().Utf8Value();
}

Napi::TypedArray Args::typed_array(size_t i, const char* what, napi_typedarray_type type) const {
  if (!values_[i].IsTypedArray()) fail(kArg, std::string(what) + " must be a " + typed_array_name(type));
  Napi::TypedArray arr = values_[i].As<Napi::TypedArray>();
  if (arr.TypedArrayType() != type) {
    fail(kDtype, std::string(what) + " must be a " + typed_array_name(type) + ", got " +
                     typed_array_name(arr.TypedArrayType()));
  }
  return arr;
}

const void* Args::bytes(size_t i, const char* what, size_t length, bool* is_signed) const {
  if (!values_[i].IsTypedArray()) fail(kArg, std::string(what) + " must be an Int8Array or Uint8Array");
  const auto type = values_[i].As<Napi::TypedArray>().TypedArrayType();
  if (type == napi_int8_array) {
    *is_signed = true;
    return typed<int8_t>(i, what, napi_int8_array, length);
  }
  if (type == napi_uint8_array) {
    *is_signed = false;
    return typed<uint8_t>(i, what, napi_uint8_array, length);
  }
  fail(kDtype, std::string(what) + " must be an Int8Array or Uint8Array, got " + typed_array_name(type));
}

size_t checked_mul(const Args& args, size_t a, size_t b, const char* what) {
  size_t r;
  if (__builtin_mul_overflow(a, b, &r) || r > (size_t{1} << 53)) {
    args.fail(kShape, std::string(what) + ": size " + std::to_string(a) + " x " + std::to_string(b) +
                          " overflows");
  }
  return r;
}

const char* typed_array_name(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "typed array";
  }
}

}  // namespace lowbit_addon
