// Elementwise row kernels, portable C++: the ground truth for the SIMD paths
// (lowbit/elementwise.h gives the scalar definitions they all follow).
#include <cstring>

#include "lowbit/elementwise.h"

namespace lowbit {
namespace ref {
namespace {

template <typename F>
inline void binary_loop(const float* a, size_t sa, const float* b, size_t sb, float* out, size_t n, float lo,
                        float hi, F f) {
  for (size_t i = 0; i < n; ++i) out[i] = clamp_one(f(a[i * sa], b[i * sb]), lo, hi);
}

}  // namespace

void binary_f32_row(BinaryOp op, const float* a, size_t sa, const float* b, size_t sb, float* out, size_t n,
                    float lo, float hi) {
  switch (op) {
    case BinaryOp::kAdd: binary_loop(a, sa, b, sb, out, n, lo, hi, [](float x, float y) { return x + y; }); break;
    case BinaryOp::kSub: binary_loop(a, sa, b, sb, out, n, lo, hi, [](float x, float y) { return x - y; }); break;
    case BinaryOp::kMul: binary_loop(a, sa, b, sb, out, n, lo, hi, [](float x, float y) { return x * y; }); break;
    case BinaryOp::kDiv: binary_loop(a, sa, b, sb, out, n, lo, hi, [](float x, float y) { return x / y; }); break;
    default:
      binary_loop(a, sa, b, sb, out, n, lo, hi, [op](float x, float y) { return binary_one(op, x, y); });
      break;
  }
}

void binary_s32_row(BinaryOp op, const int32_t* a, size_t sa, const int32_t* b, size_t sb, int32_t* out,
                    size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = binary_one_s32(op, a[i * sa], b[i * sb]);
}

void binary_f32_rows(BinaryOp op, const float* a, size_t sa, size_t a_row, const float* b, size_t sb, size_t b_row,
                     float* out, size_t rows, size_t n, float lo, float hi) {
  for (size_t r = 0; r < rows; ++r) binary_f32_row(op, a + r * a_row, sa, b + r * b_row, sb, out + r * n, n, lo, hi);
}

void binary_s32_rows(BinaryOp op, const int32_t* a, size_t sa, size_t a_row, const int32_t* b, size_t sb,
                     size_t b_row, int32_t* out, size_t rows, size_t n) {
  for (size_t r = 0; r < rows; ++r) binary_s32_row(op, a + r * a_row, sa, b + r * b_row, sb, out + r * n, n);
}

void unary_f32(const UnaryParams& p, const float* x, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = unary_one(p, x[i]);
}

void lut8(const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = table[x[i]];
}

void affine_f32(const float* x, const float* scale, const float* bias, size_t sp, float* out, size_t n,
                float lo, float hi) {
  for (size_t i = 0; i < n; ++i) {
    const float t = x[i] * scale[i * sp];
    out[i] = clamp_one(t + bias[i * sp], lo, hi);
  }
}

extern const ElementwisePath kElementwisePath = {
    Isa::kRef, binary_f32_rows, binary_s32_rows, unary_f32, lut8, affine_f32,
};

}  // namespace ref

// ------------------------------------------------------------- cast

size_t element_bytes(ElementType t) {
  return t == ElementType::kFloat32 || t == ElementType::kInt32 ? 4 : 1;
}

namespace {

// float -> integer: toward zero, saturating, NaN -> 0. The bounds compare in
// double, where every integer limit is exact.
template <typename T>
inline T float_to_int(float v) {
  constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
  if (!(v == v)) return 0;
  if (static_cast<double>(v) <= lo) return std::numeric_limits<T>::min();
  if (static_cast<double>(v) >= hi) return std::numeric_limits<T>::max();
  return static_cast<T>(v);
}

template <typename From, typename To>
void cast_loop(const void* x, void* out, size_t n) {
  const From* src = static_cast<const From*>(x);
  To* dst = static_cast<To*>(out);
  for (size_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<From, float> && std::is_same_v<To, float>) {
      dst[i] = src[i];
    } else if constexpr (std::is_same_v<From, float>) {
      dst[i] = float_to_int<To>(src[i]);
    } else if constexpr (std::is_same_v<To, float>) {
      dst[i] = static_cast<float>(src[i]);
    } else {
      // Integer to integer: keep the low bits (modular), as ONNX specifies.
      dst[i] = static_cast<To>(static_cast<uint32_t>(static_cast<int32_t>(src[i])));
    }
  }
}

template <typename From>
void cast_from(const void* x, ElementType to, void* out, size_t n) {
  switch (to) {
    case ElementType::kFloat32: cast_loop<From, float>(x, out, n); break;
    case ElementType::kInt32: cast_loop<From, int32_t>(x, out, n); break;
    case ElementType::kInt8: cast_loop<From, int8_t>(x, out, n); break;
    case ElementType::kUint8: cast_loop<From, uint8_t>(x, out, n); break;
  }
}

}  // namespace

void cast(ElementType from, const void* x, ElementType to, void* out, size_t n) {
  if (from == to) {
    std::memmove(out, x, n * element_bytes(from));
    return;
  }
  switch (from) {
    case ElementType::kFloat32: cast_from<float>(x, to, out, n); break;
    case ElementType::kInt32: cast_from<int32_t>(x, to, out, n); break;
    case ElementType::kInt8: cast_from<int8_t>(x, to, out, n); break;
    case ElementType::kUint8: cast_from<uint8_t>(x, to, out, n); break;
  }
}

}  // namespace lowbit
