// Argument checking at the N-API boundary. The addon trusts nothing from
// JavaScript: every length is checked against the shape it must match, every
// size product against overflow, every buffer against detachment.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "errors.h"

namespace lowbit_addon {

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn, size_t count);

  Napi::Env env() const { return info_.Env(); }
  const Napi::Value& operator[](size_t i) const { return values_[i]; }

  // A non-negative integer that fits a size (and JS's 2^53).
  size_t size(size_t i, const char* what) const;
  int32_t int32(size_t i, const char* what, int64_t lo, int64_t hi) const;
  bool boolean(size_t i, const char* what) const;
  std::string string(size_t i, const char* what) const;
  bool is_null(size_t i) const { return values_[i].IsNull() || values_[i].IsUndefined(); }

  // A typed array of exactly this element type and exactly `length` elements.
  template <typename T>
  T* typed(size_t i, const char* what, napi_typedarray_type type, size_t length) const;
  // A typed array of this type whose length is one of {1, count} (per tensor / per channel).
  template <typename T>
  const T* params(size_t i, const char* what, napi_typedarray_type type, size_t count,
                  size_t* got) const;
  // Any of int8/uint8 typed arrays, returns pointer and signedness.
  const void* bytes(size_t i, const char* what, size_t length, bool* is_signed) const;

  [[noreturn]] void fail(const char* code, const std::string& message) const;

 private:
  Napi::TypedArray typed_array(size_t i, const char* what, napi_typedarray_type type) const;
  const Napi::CallbackInfo& info_;
  const char* fn_;
  Napi::Value values_[16];
};

// a * b, failing with E_SHAPE when the product does not fit.
size_t checked_mul(const Args& args, size_t a, size_t b, const char* what);

const char* typed_array_name(napi_typedarray_type t);

template <typename T>
T* Args::typed(size_t i, const char* what, napi_typedarray_type type, size_t length) const {
  Napi::TypedArray arr = typed_array(i, what, type);
  if (arr.ElementLength() != length) {
    fail(arr.ElementLength() == 0 && length > 0 ? kBuffer : kShape,
         std::string(what) + " has " + std::to_string(arr.ElementLength()) +
             " elements, expected " + std::to_string(length) +
             (arr.ElementLength() == 0 ? " (is its buffer detached?)" : ""));
  }
  auto* base = static_cast<uint8_t*>(arr.ArrayBuffer().Data());
  if (base == nullptr && length > 0) fail(kBuffer, std::string(what) + " has no backing store");
  return reinterpret_cast<T*>(base + arr.ByteOffset());
}

template <typename T>
const T* Args::params(size_t i, const char* what, napi_typedarray_type type, size_t count,
                      size_t* got) const {
  Napi::TypedArray arr = typed_array(i, what, type);
  const size_t len = arr.ElementLength();
  if (len != 1 && len != count) {
    fail(kShape, std::string(what) + " has " + std::to_string(len) + " values, expected 1 or " +
                     std::to_string(count));
  }
  *got = len;
  auto* base = static_cast<uint8_t*>(arr.ArrayBuffer().Data());
  if (base == nullptr) fail(kBuffer, std::string(what) + " has no backing store");
  return reinterpret_cast<const T*>(base + arr.ByteOffset());
}

}  // namespace lowbit_addon
