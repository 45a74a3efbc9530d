// Min/max and the |x| histogram, 4 floats at a time, with ref's bin formula
// lane by lane (float64x2: widen, |.|, multiply by 1/width, floor, clamp):
// every index equals abs_bin_index().
#include <arm_neon.h>

#include <cmath>
#include <limits>

#include "lowbit/stats.h"

namespace lowbit {
namespace neon {
namespace {

void min_max(const float* x, size_t n, float* lo, float* hi) {
  // vminnm/vmaxnm return the number when one operand is NaN: NaN is ignored.
  float32x4_t lo0 = vdupq_n_f32(std::numeric_limits<float>::infinity()), lo1 = lo0;
  float32x4_t hi0 = vdupq_n_f32(-std::numeric_limits<float>::infinity()), hi1 = hi0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4);
    lo0 = vminnmq_f32(lo0, a);
    hi0 = vmaxnmq_f32(hi0, a);
    lo1 = vminnmq_f32(lo1, b);
    hi1 = vmaxnmq_f32(hi1, b);
  }
  float rl, rh;
  ref::min_max(x + i, n - i, &rl, &rh);
  const float l = vminnmvq_f32(vminnmq_f32(lo0, lo1)), h = vmaxnmvq_f32(vmaxnmq_f32(hi0, hi1));
  *lo = l < rl ? l : rl;
  *hi = h > rh ? h : rh;
}

inline uint64x2_t bins_of(float32x2_t v, float64x2_t inv, float64x2_t last) {
  const float64x2_t b = vrndmq_f64(vmulq_f64(vabsq_f64(vcvt_f64_f32(v)), inv));
  return vcvtq_u64_f64(vminnmq_f64(b, last));
}

// The histogram, and with kMinMax the extremes in the same pass (as min_max above).
template <bool kMinMax>
void histogram(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts, float* lo, float* hi) {
  float32x4_t vlo = vdupq_n_f32(std::numeric_limits<float>::infinity());
  float32x4_t vhi = vdupq_n_f32(-std::numeric_limits<float>::infinity());
  const size_t stride = size_t{bins} + 1;
  uint32_t* c0 = counts;
  uint32_t* c1 = counts + stride;
  uint32_t* c2 = counts + 2 * stride;
  uint32_t* c3 = counts + 3 * stride;
  const float64x2_t inv = vdupq_n_f64(inv_width);
  const float64x2_t last = vdupq_n_f64(static_cast<double>(bins - 1));
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = vld1q_f32(x + i);
    if (kMinMax) {
      vlo = vminnmq_f32(vlo, v);
      vhi = vmaxnmq_f32(vhi, v);
    }
    // Not zero and not NaN (v == v); skipped lanes go to each copy's extra slot.
    const uint32x4_t counted = vandq_u32(vmvnq_u32(vceqzq_f32(v)), vceqq_f32(v, v));
    const uint32x4_t idx = vcombine_u32(vmovn_u64(bins_of(vget_low_f32(v), inv, last)),
                                        vmovn_u64(bins_of(vget_high_f32(v), inv, last)));
    const uint32x4_t pick = vbslq_u32(counted, idx, vdupq_n_u32(bins));
    ++c0[vgetq_lane_u32(pick, 0)];
    ++c1[vgetq_lane_u32(pick, 1)];
    ++c2[vgetq_lane_u32(pick, 2)];
    ++c3[vgetq_lane_u32(pick, 3)];
  }
  ref::abs_histogram(x + i, n - i, inv_width, bins, counts);
  if (kMinMax) {
    ref::min_max(x + i, n - i, lo, hi);
    const float l = vminnmvq_f32(vlo), h = vmaxnmvq_f32(vhi);
    if (l < *lo) *lo = l;
    if (h > *hi) *hi = h;
  }
}

void abs_histogram(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts) {
  histogram<false>(x, n, inv_width, bins, counts, nullptr, nullptr);
}

void abs_histogram_min_max(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts, float* lo,
                           float* hi) {
  histogram<true>(x, n, inv_width, bins, counts, lo, hi);
}

// min_max (as above) and the tail copy in one pass. Callers cut the tail at
// ~0.1% of the values: most vectors have no lane that passes, and the branch
// predicts well. In a vector that has one, every lane is stored at out + m and
// m advances past the ones that pass (vcge is false for NaN); m <= i + k, so
// every store stays inside out[0, n).
size_t min_max_abs_at_least(const float* x, size_t n, float cutoff, float* out, float* lo, float* hi) {
  const float32x4_t c = vdupq_n_f32(cutoff);
  float32x4_t vlo = vdupq_n_f32(std::numeric_limits<float>::infinity());
  float32x4_t vhi = vdupq_n_f32(-std::numeric_limits<float>::infinity());
  size_t m = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = vld1q_f32(x + i);
    vlo = vminnmq_f32(vlo, v);
    vhi = vmaxnmq_f32(vhi, v);
    const uint32x4_t pass = vshrq_n_u32(vcgeq_f32(vabsq_f32(v), c), 31);
    if (vmaxvq_u32(pass) == 0) continue;
    out[m] = vgetq_lane_f32(v, 0);
    m += vgetq_lane_u32(pass, 0);
    out[m] = vgetq_lane_f32(v, 1);
    m += vgetq_lane_u32(pass, 1);
    out[m] = vgetq_lane_f32(v, 2);
    m += vgetq_lane_u32(pass, 2);
    out[m] = vgetq_lane_f32(v, 3);
    m += vgetq_lane_u32(pass, 3);
  }
  m += ref::min_max_abs_at_least(x + i, n - i, cutoff, out + m, lo, hi);
  const float l = vminnmvq_f32(vlo), h = vmaxnmvq_f32(vhi);
  if (l < *lo) *lo = l;
  if (h > *hi) *hi = h;
  return m;
}

}  // namespace

extern const StatsPath kStatsPath = {Isa::kNeon, min_max, abs_histogram, abs_histogram_min_max, min_max_abs_at_least};

}  // namespace neon
}  // namespace lowbit
