// Elementwise row kernels written once over a vector wrapper V (f32-vec.h) and
// instantiated in each ISA's translation unit. Exact ops follow the scalar
// definitions in lowbit/elementwise.h operation for operation, so they equal
// ref bit for bit; the tail (n % V::kN) goes through the same vector code on a
// padded copy, so a value's result never depends on its position.
#pragma once

#include <cstring>

#include "f32-vec.h"
#include "lowbit/elementwise.h"

namespace lowbit {
namespace simd {

// Applies f (vector -> vector) to n floats: whole vectors in place, the tail
// through a zero-padded copy.
template <class V, typename F>
inline void map1(const float* x, float* out, size_t n, const F& f) {
  size_t i = 0;
  for (; i + V::kN <= n; i += V::kN) V::store(out + i, f(V::load(x + i)));
  if (i < n) {
    float buf[V::kN] = {};
    std::memcpy(buf, x + i, (n - i) * sizeof(float));
    V::store(buf, f(V::load(buf)));
    std::memcpy(out + i, buf, (n - i) * sizeof(float));
  }
}

// As map1 for two inputs with strides sa, sb in {0, 1}.
template <class V, size_t kSa, size_t kSb, typename F>
inline void map2(const float* a, const float* b, float* out, size_t n, const F& f) {
  const typename V::T va = V::set1(a[0]), vb = V::set1(b[0]);
  size_t i = 0;
  for (; i + V::kN <= n; i += V::kN) {
    V::store(out + i, f(kSa ? V::load(a + i) : va, kSb ? V::load(b + i) : vb));
  }
  if (i < n) {
    float ba[V::kN] = {}, bb[V::kN] = {};
    const size_t r = n - i;
    if (kSa) std::memcpy(ba, a + i, r * sizeof(float));
    if (kSb) std::memcpy(bb, b + i, r * sizeof(float));
    V::store(ba, f(kSa ? V::load(ba) : va, kSb ? V::load(bb) : vb));
    std::memcpy(out + i, ba, r * sizeof(float));
  }
}

template <class V>
inline typename V::T clamp(typename V::T x, typename V::T lo, typename V::T hi) {
  return V::min_lt(hi, V::max_gt(lo, x));  // ref: x < lo ? lo : x, then t > hi ? hi : t
}

template <class V, BinaryOp kOp>
inline typename V::T binary_vec(typename V::T a, typename V::T b) {
  if constexpr (kOp == BinaryOp::kAdd) return V::add(a, b);
  if constexpr (kOp == BinaryOp::kSub) return V::sub(a, b);
  if constexpr (kOp == BinaryOp::kMul) return V::mul(a, b);
  if constexpr (kOp == BinaryOp::kDiv) return V::div(a, b);
  // a NaN -> a; else a > b ? a : b (b when b is NaN).
  if constexpr (kOp == BinaryOp::kMax) return V::select(V::isnan(a), a, V::max_gt(a, b));
  if constexpr (kOp == BinaryOp::kMin) return V::select(V::isnan(a), a, V::min_lt(a, b));
  if constexpr (kOp == BinaryOp::kPRelu) return V::select(V::lt(a, V::zero()), V::mul(a, b), a);
  return a;
}

template <class V, BinaryOp kOp, size_t kSa, size_t kSb>
inline void binary_strided(const float* a, const float* b, float* out, size_t n, float lo, float hi, bool clamped) {
  if (clamped) {
    const typename V::T vlo = V::set1(lo), vhi = V::set1(hi);
    map2<V, kSa, kSb>(a, b, out, n, [&](typename V::T x, typename V::T y) {
      return clamp<V>(binary_vec<V, kOp>(x, y), vlo, vhi);
    });
  } else {
    map2<V, kSa, kSb>(a, b, out, n, [](typename V::T x, typename V::T y) { return binary_vec<V, kOp>(x, y); });
  }
}

template <class V, BinaryOp kOp, size_t kSa, size_t kSb>
inline void binary_block(const float* a, size_t ar, const float* b, size_t br, float* out, size_t rows, size_t n,
                         float lo, float hi, bool clamped) {
  for (size_t r = 0; r < rows; ++r) binary_strided<V, kOp, kSa, kSb>(a + r * ar, b + r * br, out + r * n, n, lo, hi, clamped);
}

template <class V, BinaryOp kOp>
inline bool binary_op(const float* a, size_t sa, size_t ar, const float* b, size_t sb, size_t br, float* out,
                      size_t rows, size_t n, float lo, float hi) {
  const bool clamped = lo > -std::numeric_limits<float>::infinity() || hi < std::numeric_limits<float>::infinity() ||
                       lo != lo || hi != hi;
  if (sa == 1 && sb == 1) binary_block<V, kOp, 1, 1>(a, ar, b, br, out, rows, n, lo, hi, clamped);
  else if (sa == 1 && sb == 0) binary_block<V, kOp, 1, 0>(a, ar, b, br, out, rows, n, lo, hi, clamped);
  else if (sa == 0 && sb == 1) binary_block<V, kOp, 0, 1>(a, ar, b, br, out, rows, n, lo, hi, clamped);
  else if (sa == 0 && sb == 0) binary_block<V, kOp, 0, 0>(a, ar, b, br, out, rows, n, lo, hi, clamped);
  else return false;
  return true;
}

template <class V>
void binary_f32_rows(BinaryOp op, const float* a, size_t sa, size_t ar, const float* b, size_t sb, size_t br,
                     float* out, size_t rows, size_t n, float lo, float hi) {
  if (n == 0 || rows == 0) return;
  bool done = false;
  switch (op) {
    case BinaryOp::kAdd: done = binary_op<V, BinaryOp::kAdd>(a, sa, ar, b, sb, br, out, rows, n, lo, hi); break;
    case BinaryOp::kSub: done = binary_op<V, BinaryOp::kSub>(a, sa, ar, b, sb, br, out, rows, n, lo, hi); break;
    case BinaryOp::kMul: done = binary_op<V, BinaryOp::kMul>(a, sa, ar, b, sb, br, out, rows, n, lo, hi); break;
    case BinaryOp::kDiv: done = binary_op<V, BinaryOp::kDiv>(a, sa, ar, b, sb, br, out, rows, n, lo, hi); break;
    case BinaryOp::kMax: done = binary_op<V, BinaryOp::kMax>(a, sa, ar, b, sb, br, out, rows, n, lo, hi); break;
    case BinaryOp::kMin: done = binary_op<V, BinaryOp::kMin>(a, sa, ar, b, sb, br, out, rows, n, lo, hi); break;
    case BinaryOp::kPRelu: done = binary_op<V, BinaryOp::kPRelu>(a, sa, ar, b, sb, br, out, rows, n, lo, hi); break;
    default: break;  // Pow: the C library, as ref
  }
  if (!done) ref::binary_f32_rows(op, a, sa, ar, b, sb, br, out, rows, n, lo, hi);
}

template <class V>
void unary_f32(const UnaryParams& p, const float* x, float* out, size_t n) {
  using T = typename V::T;
  const T zero = V::zero(), one = V::set1(1.0f);
  const T alpha = V::set1(p.alpha), beta = V::set1(p.beta);
  switch (p.op) {
    case UnaryOp::kRelu: map1<V>(x, out, n, [&](T v) { return V::max_gt(zero, v); }); return;
    case UnaryOp::kLeakyRelu:
      map1<V>(x, out, n, [&](T v) { return V::select(V::lt(v, zero), V::mul(alpha, v), v); });
      return;
    case UnaryOp::kClip: map1<V>(x, out, n, [&](T v) { return clamp<V>(v, alpha, beta); }); return;
    case UnaryOp::kHardSigmoid:
      map1<V>(x, out, n, [&](T v) {
        const T t = V::add(V::mul(alpha, v), beta);
        return V::max_gt(zero, V::min_lt(one, t));
      });
      return;
    case UnaryOp::kHardSwish: {
      const T sixth = V::set1(1.0f / 6.0f), half = V::set1(0.5f);
      map1<V>(x, out, n, [&](T v) {
        const T t = V::add(V::mul(v, sixth), half);
        return V::mul(v, V::max_gt(zero, V::min_lt(one, t)));
      });
      return;
    }
    case UnaryOp::kNeg: map1<V>(x, out, n, [](T v) { return V::neg(v); }); return;
    case UnaryOp::kAbs: map1<V>(x, out, n, [](T v) { return V::abs(v); }); return;
    case UnaryOp::kSqrt: map1<V>(x, out, n, [](T v) { return V::sqrt(v); }); return;
    case UnaryOp::kReciprocal: map1<V>(x, out, n, [&](T v) { return V::div(one, v); }); return;
    case UnaryOp::kFloor: map1<V>(x, out, n, [](T v) { return V::floor(v); }); return;
    case UnaryOp::kCeil: map1<V>(x, out, n, [](T v) { return V::ceil(v); }); return;
    case UnaryOp::kRound: map1<V>(x, out, n, [](T v) { return V::round(v); }); return;
    case UnaryOp::kExp: map1<V>(x, out, n, [](T v) { return vexp<V>(v); }); return;
    case UnaryOp::kSigmoid: map1<V>(x, out, n, [](T v) { return vsigmoid<V>(v); }); return;
    case UnaryOp::kTanh: map1<V>(x, out, n, [](T v) { return vtanh<V>(v); }); return;
    default: ref::unary_f32(p, x, out, n); return;
  }
}

template <class V>
void affine_f32(const float* x, const float* scale, const float* bias, size_t sp, float* out, size_t n, float lo,
                float hi) {
  using T = typename V::T;
  const bool clamped = lo > -std::numeric_limits<float>::infinity() || hi < std::numeric_limits<float>::infinity() ||
                       lo != lo || hi != hi;
  const T vlo = V::set1(lo), vhi = V::set1(hi);
  if (sp == 0) {
    const T s = V::set1(scale[0]), b = V::set1(bias[0]);
    if (clamped) map1<V>(x, out, n, [&](T v) { return clamp<V>(V::add(V::mul(v, s), b), vlo, vhi); });
    else map1<V>(x, out, n, [&](T v) { return V::add(V::mul(v, s), b); });
    return;
  }
  if (sp != 1) {
    ref::affine_f32(x, scale, bias, sp, out, n, lo, hi);
    return;
  }
  size_t i = 0;
  for (; i + V::kN <= n; i += V::kN) {
    T v = V::add(V::mul(V::load(x + i), V::load(scale + i)), V::load(bias + i));
    if (clamped) v = clamp<V>(v, vlo, vhi);
    V::store(out + i, v);
  }
  if (i < n) ref::affine_f32(x + i, scale + i, bias + i, 1, out + i, n - i, lo, hi);
}

}  // namespace simd
}  // namespace lowbit
