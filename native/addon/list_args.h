// Argument helpers shared by the fp32-op and data-movement bindings: integer
// lists (shapes, strides, permutations), plain numbers, names from a fixed
// set, and operands of any lowbit element type. Everything is checked here,
// before a step is recorded, so steps never throw.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "args.h"
#include "lowbit/quantize.h"
#include "op_call.h"

namespace lowbit_addon {

// A JS array (or Int32Array) of at most max_len integers in [lo, hi].
inline std::vector<int64_t> int_list(const Args& args, size_t i, const char* what, size_t max_len, int64_t lo,
                                     int64_t hi) {
  std::vector<int64_t> out;
  auto check = [&](double v, size_t k) {
    if (!(v >= static_cast<double>(lo) && v <= static_cast<double>(hi)) || v != std::floor(v)) {
      args.fail(kRange, std::string(what) + "[" + std::to_string(k) + "] must be an integer in [" + std::to_string(lo) +
                            ", " + std::to_string(hi) + "], got " + std::to_string(v));
    }
    out.push_back(static_cast<int64_t>(v));
  };
  if (args[i].IsArray()) {
    Napi::Array a = args[i].As<Napi::Array>();
    if (a.Length() > max_len) {
      args.fail(kShape, std::string(what) + " has " + std::to_string(a.Length()) + " entries, at most " +
                            std::to_string(max_len) + " are supported");
    }
    for (uint32_t k = 0; k < a.Length(); ++k) {
      Napi::Value v = a.Get(k);
      if (!v.IsNumber()) args.fail(kArg, std::string(what) + "[" + std::to_string(k) + "] must be a number");
      check(v.As<Napi::Number>().DoubleValue(), k);
    }
    return out;
  }
  if (args[i].IsTypedArray() && args[i].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    Napi::Int32Array a = args[i].As<Napi::Int32Array>();
    if (a.ElementLength() > max_len) {
      args.fail(kShape, std::string(what) + " has " + std::to_string(a.ElementLength()) + " entries, at most " +
                            std::to_string(max_len) + " are supported");
    }
    for (size_t k = 0; k < a.ElementLength(); ++k) check(a[k], k);
    return out;
  }
  args.fail(kArg, std::string(what) + " must be an array of integers");
}

// Checks that dims/strides address only elements [0, count) of an input.
inline void check_extent(const Args& args, const std::vector<int64_t>& dims, const std::vector<int64_t>& strides,
                         size_t count, const char* what) {
  size_t last = 0;
  bool empty = false;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == 0) empty = true;
    else last += checked_mul(args, static_cast<size_t>(dims[d] - 1), static_cast<size_t>(strides[d]), what);
    if (last > (size_t{1} << 53)) args.fail(kShape, std::string(what) + ": the broadcast plan's offsets overflow");
  }
  if (!empty && last >= count) {
    args.fail(kShape, std::string(what) + ": the broadcast plan reads element " + std::to_string(last) + " of " +
                          std::to_string(count));
  }
}

// A finite-or-infinite JS number (not NaN) as float32.
inline float float_arg(const Args& args, size_t i, const char* what) {
  if (!args[i].IsNumber()) args.fail(kArg, std::string(what) + " must be a number");
  const double v = args[i].As<Napi::Number>().DoubleValue();
  if (std::isnan(v)) args.fail(kRange, std::string(what) + " must not be NaN");
  return static_cast<float>(v);
}

// One of `names`; returns its index.
inline size_t choice(const Args& args, size_t i, const char* what, const std::vector<const char*>& names) {
  const std::string s = args.string(i, what);
  for (size_t k = 0; k < names.size(); ++k) {
    if (s == names[k]) return k;
  }
  std::string list;
  for (size_t k = 0; k < names.size(); ++k) list += (k ? ", " : "") + std::string(names[k]);
  args.fail(kArg, std::string(what) + " must be one of " + list + ", got '" + s + "'");
}

inline lowbit::ElementType element_type(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return lowbit::ElementType::kFloat32;
    case napi_int32_array: return lowbit::ElementType::kInt32;
    case napi_int8_array: return lowbit::ElementType::kInt8;
    default: return lowbit::ElementType::kUint8;
  }
}

inline size_t type_bytes(napi_typedarray_type t) {
  return t == napi_float32_array || t == napi_int32_array ? 4 : 1;
}

// An operand of float32, int32, int8 or uint8 elements; returns its type.
inline lowbit::BufferRef any_tensor(const OpCall& call, size_t i, const char* what, size_t count,
                                    napi_typedarray_type* type) {
  *type = call.type_of(i, what);
  switch (*type) {
    case napi_float32_array: return call.tensor<float>(i, what, *type, count);
    case napi_int32_array: return call.tensor<int32_t>(i, what, *type, count);
    case napi_int8_array: return call.tensor<int8_t>(i, what, *type, count);
    case napi_uint8_array: return call.tensor<uint8_t>(i, what, *type, count);
    default:
      call.args().fail(kDtype, std::string(what) + " must hold float32, int32, int8 or uint8 values, got " +
                                   typed_array_name(*type));
  }
}

// An operand of exactly `type`.
inline lowbit::BufferRef typed_tensor(const OpCall& call, size_t i, const char* what, size_t count,
                                      napi_typedarray_type type) {
  napi_typedarray_type got;
  const lowbit::BufferRef ref = any_tensor(call, i, what, count, &got);
  if (got != type) {
    call.args().fail(kDtype, std::string(what) + " must be a " + typed_array_name(type) + " like the input, got " +
                                 typed_array_name(got));
  }
  return ref;
}

// The product of dims, failing with E_SHAPE on overflow.
inline size_t product(const Args& args, const std::vector<int64_t>& dims, const char* what) {
  size_t n = 1;
  for (int64_t d : dims) n = checked_mul(args, n, static_cast<size_t>(d), what);
  return n;
}

}  // namespace lowbit_addon
