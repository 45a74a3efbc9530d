// The resize weighted sum over channels (NHWC), written once over a vector
// wrapper V (f32-vec.h): s = w0 * x0, then s = s + wt * xt in tap order, as
// ref does (no FMA), so results are bit-identical.
#pragma once

#include "f32-vec.h"
#include "lowbit/layout.h"

namespace lowbit {
namespace simd {

template <class V>
void weighted_sum_f32(const float* const* rows, const float* weights, size_t taps, size_t c, float* out) {
  using T = typename V::T;
  size_t j = 0;
  for (; j + V::kN <= c; j += V::kN) {
    T s = V::mul(V::set1(weights[0]), V::load(rows[0] + j));
    for (size_t t = 1; t < taps; ++t) s = V::add(s, V::mul(V::set1(weights[t]), V::load(rows[t] + j)));
    V::store(out + j, s);
  }
  for (; j < c; ++j) {
    float s = weights[0] * rows[0][j];
    for (size_t t = 1; t < taps; ++t) s = s + weights[t] * rows[t][j];
    out[j] = s;
  }
}

}  // namespace simd
}  // namespace lowbit
