// Pooling channel-row kernels (NHWC) written once over a vector wrapper V
// (f32-vec.h): taps in window order, vectorised over channels, so every
// channel sees exactly ref's operations (bit-identical). The channel tail
// runs ref's scalar loop, which is the same definition.
#pragma once

#include "f32-vec.h"
#include "lowbit/elementwise.h"
#include "lowbit/pool.h"

namespace lowbit {
namespace simd {

template <class V>
void max_f32(const float* const* rows, size_t taps, size_t c, float* out) {
  using T = typename V::T;
  size_t j = 0;
  for (; j + 2 * V::kN <= c; j += 2 * V::kN) {
    T m0 = V::load(rows[0] + j), m1 = V::load(rows[0] + j + V::kN);
    for (size_t t = 1; t < taps; ++t) {
      const T v0 = V::load(rows[t] + j), v1 = V::load(rows[t] + j + V::kN);
      m0 = V::select(V::isnan(m0), m0, V::max_gt(m0, v0));
      m1 = V::select(V::isnan(m1), m1, V::max_gt(m1, v1));
    }
    V::store(out + j, m0);
    V::store(out + j + V::kN, m1);
  }
  for (; j + V::kN <= c; j += V::kN) {
    T m = V::load(rows[0] + j);
    for (size_t t = 1; t < taps; ++t) m = V::select(V::isnan(m), m, V::max_gt(m, V::load(rows[t] + j)));
    V::store(out + j, m);
  }
  for (; j < c; ++j) {
    float m = rows[0][j];
    for (size_t t = 1; t < taps; ++t) m = binary_one(BinaryOp::kMax, m, rows[t][j]);
    out[j] = m;
  }
}

template <class V>
void avg_f32(const float* const* rows, size_t taps, size_t c, float divisor, float* out) {
  using T = typename V::T;
  const T d = V::set1(divisor);
  size_t j = 0;
  for (; j + 2 * V::kN <= c; j += 2 * V::kN) {
    T s0 = V::load(rows[0] + j), s1 = V::load(rows[0] + j + V::kN);
    for (size_t t = 1; t < taps; ++t) {
      s0 = V::add(s0, V::load(rows[t] + j));
      s1 = V::add(s1, V::load(rows[t] + j + V::kN));
    }
    V::store(out + j, V::div(s0, d));
    V::store(out + j + V::kN, V::div(s1, d));
  }
  for (; j + V::kN <= c; j += V::kN) {
    T s = V::load(rows[0] + j);
    for (size_t t = 1; t < taps; ++t) s = V::add(s, V::load(rows[t] + j));
    V::store(out + j, V::div(s, d));
  }
  for (; j < c; ++j) {
    float s = rows[0][j];
    for (size_t t = 1; t < taps; ++t) s = s + rows[t][j];
    out[j] = s / divisor;
  }
}

// Byte max over taps with a vector type B: max(B, B), load, store, lanes.
template <typename E, typename B, size_t kLanes, typename Load, typename Store, typename Max>
inline void max_bytes(const E* const* rows, size_t taps, size_t c, E* out, Load load, Store store, Max max) {
  size_t j = 0;
  for (; j + kLanes <= c; j += kLanes) {
    B m = load(rows[0] + j);
    for (size_t t = 1; t < taps; ++t) m = max(m, load(rows[t] + j));
    store(out + j, m);
  }
  for (; j < c; ++j) {
    E m = rows[0][j];
    for (size_t t = 1; t < taps; ++t) m = rows[t][j] > m ? rows[t][j] : m;
    out[j] = m;
  }
}

}  // namespace simd
}  // namespace lowbit
