// Softmax / LogSoftmax of one contiguous row, written once over a vector
// wrapper V (f32-vec.h): vector max, vector exp and sum, vector scale. Lane
// sums make the result differ from ref's sequential sum by rounding only.
#pragma once

#include <cmath>
#include <cstring>
#include <limits>

#include "f32-vec.h"
#include "lowbit/reduce.h"

namespace lowbit {
namespace simd {

template <class V>
void softmax_row(const float* x, float* out, size_t n, bool log) {
  using T = typename V::T;
  if (n == 0) return;
  const size_t full = n / V::kN * V::kN, rest = n - full;
  float buf[V::kN];
  // Max, NaN-propagating like ref; the tail is padded with x[0].
  T vm = V::set1(x[0]);
  for (size_t i = 0; i < full; i += V::kN) {
    const T v = V::load(x + i);
    vm = V::select(V::isnan(vm), vm, V::select(V::isnan(v), v, V::max_gt(vm, v)));
  }
  V::store(buf, vm);
  float m = buf[0];
  for (size_t k = 1; k < V::kN; ++k) m = binary_one(BinaryOp::kMax, m, buf[k]);
  for (size_t i = full; i < n; ++i) m = binary_one(BinaryOp::kMax, m, x[i]);
  // exp(x - m) and its sum; the tail is padded with -inf (exp gives 0).
  const T vmax = V::set1(m);
  T vs = V::zero();
  for (size_t i = 0; i < full; i += V::kN) {
    const T e = vexp<V>(V::sub(V::load(x + i), vmax));
    if (!log) V::store(out + i, e);
    vs = V::add(vs, e);
  }
  if (rest > 0) {
    for (size_t k = 0; k < V::kN; ++k) buf[k] = k < rest ? x[full + k] : -std::numeric_limits<float>::infinity();
    const T e = vexp<V>(V::sub(V::load(buf), vmax));
    V::store(buf, e);
    if (!log) std::memcpy(out + full, buf, rest * sizeof(float));
    for (size_t k = rest; k < V::kN; ++k) buf[k] = 0.0f;
    vs = V::add(vs, V::load(buf));
  }
  V::store(buf, vs);
  float sum = 0.0f;
  for (size_t k = 0; k < V::kN; ++k) sum += buf[k];
  if (log) {
    const T lse = V::set1(std::log(sum));
    for (size_t i = 0; i < full; i += V::kN) V::store(out + i, V::sub(V::sub(V::load(x + i), vmax), lse));
    const float l = std::log(sum);
    for (size_t i = full; i < n; ++i) out[i] = (x[i] - m) - l;
    return;
  }
  const T vsum = V::set1(sum);
  for (size_t i = 0; i < full; i += V::kN) V::store(out + i, V::div(V::load(out + i), vsum));
  for (size_t i = full; i < n; ++i) out[i] = out[i] / sum;
}

}  // namespace simd
}  // namespace lowbit
