// Reference min/max and |x| histogram: the scalar loops of lib/quant/observers.ts
// in C++ (the ground truth the SIMD paths are tested against).
#include "lowbit/stats.h"

#include <limits>

namespace lowbit {
namespace ref {

void min_max(const float* x, size_t n, float* lo, float* hi) {
  float l = std::numeric_limits<float>::infinity(), h = -l;
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    if (v < l) l = v;  // NaN compares false: ignored
    if (v > h) h = v;
  }
  *lo = l;
  *hi = h;
}

void abs_histogram(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts) {
  const uint32_t last = bins - 1;
  for (size_t i = 0; i < n; ++i) {
    if (abs_histogram_counts(x[i])) ++counts[abs_bin_index(x[i], inv_width, last)];
  }
}

void abs_histogram_min_max(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts, float* lo,
                           float* hi) {
  min_max(x, n, lo, hi);
  abs_histogram(x, n, inv_width, bins, counts);
}

size_t abs_at_least(const float* x, size_t n, float cutoff, float* out) {
  size_t m = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::fabs(x[i]) >= cutoff) out[m++] = x[i];  // NaN compares false: never copied
  }
  return m;
}

size_t min_max_abs_at_least(const float* x, size_t n, float cutoff, float* out, float* lo, float* hi) {
  min_max(x, n, lo, hi);
  return abs_at_least(x, n, cutoff, out);
}

extern const StatsPath kStatsPath = {Isa::kRef, min_max, abs_histogram, abs_histogram_min_max, min_max_abs_at_least};

}  // namespace ref
}  // namespace lowbit
