// Min/max and the |x| histogram, 16 floats at a time, with ref's bin formula
// lane by lane (see the AVX2 version): every index equals abs_bin_index().
// GCC 12's avx512fintrin.h passes _mm512_undefined_*() through conversion and
// masked intrinsics and then warns that it is uninitialized: a false alarm.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "lowbit/stats.h"

namespace lowbit {
namespace avx512 {
namespace {

void min_max(const float* x, size_t n, float* lo, float* hi) {
  // min_ps(v, acc) returns acc when v is NaN: NaN never enters an accumulator.
  __m512 lo0 = _mm512_set1_ps(std::numeric_limits<float>::infinity()), lo1 = lo0;
  __m512 hi0 = _mm512_set1_ps(-std::numeric_limits<float>::infinity()), hi1 = hi0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    lo0 = _mm512_min_ps(a, lo0);
    hi0 = _mm512_max_ps(a, hi0);
    lo1 = _mm512_min_ps(b, lo1);
    hi1 = _mm512_max_ps(b, hi1);
  }
  if (i < n) {
    // The tail under a mask: masked-off lanes keep the accumulator.
    const size_t rest = n - i < 16 ? n - i : 16;
    const __mmask16 m = static_cast<__mmask16>((1u << rest) - 1u);
    const __m512 a = _mm512_maskz_loadu_ps(m, x + i);
    lo0 = _mm512_mask_min_ps(lo0, m, a, lo0);
    hi0 = _mm512_mask_max_ps(hi0, m, a, hi0);
    i += rest;
  }
  alignas(64) float l[16], h[16];
  _mm512_store_ps(l, _mm512_min_ps(lo0, lo1));
  _mm512_store_ps(h, _mm512_max_ps(hi0, hi1));
  float rl, rh;
  ref::min_max(x + i, n - i, &rl, &rh);
  for (int k = 0; k < 16; ++k) {
    if (l[k] < rl) rl = l[k];
    if (h[k] > rh) rh = h[k];
  }
  *lo = rl;
  *hi = rh;
}

constexpr size_t kHistogramBlock = 256;

inline __m256i bins_of(__m512d v, __m512d inv, __m512d last) {
  const __m512d b = _mm512_roundscale_pd(_mm512_mul_pd(_mm512_abs_pd(v), inv), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  return _mm512_cvttpd_epi32(_mm512_min_pd(b, last));
}

// The histogram, and with kMinMax the extremes in the same pass (as min_max above).
template <bool kMinMax>
void histogram(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts, float* lo, float* hi) {
  __m512 vlo = _mm512_set1_ps(std::numeric_limits<float>::infinity());
  __m512 vhi = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  const size_t stride = size_t{bins} + 1;
  uint32_t* c0 = counts;
  uint32_t* c1 = counts + stride;
  uint32_t* c2 = counts + 2 * stride;
  uint32_t* c3 = counts + 3 * stride;
  const __m512d inv = _mm512_set1_pd(inv_width);
  const __m512d last = _mm512_set1_pd(static_cast<double>(bins - 1));
  const __m512i skip = _mm512_set1_epi32(static_cast<int>(bins));  // each copy's extra slot
  // Indices for a block first, then the increments: a scalar load right after the
  // vector store of its index would wait on store forwarding (~1.5x slower).
  alignas(64) uint32_t idx[kHistogramBlock];
  size_t i = 0;
  while (n - i >= 16) {
    const size_t m = std::min(kHistogramBlock, (n - i) & ~size_t{15});
    for (size_t j = 0; j < m; j += 16) {
      const __m512 v = _mm512_loadu_ps(x + i + j);
      if (kMinMax) {
        vlo = _mm512_min_ps(v, vlo);
        vhi = _mm512_max_ps(v, vhi);
      }
      const __mmask16 counted = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_NEQ_OQ);  // not zero, not NaN
      const __m256i a = bins_of(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), inv, last);
      const __m256i b = bins_of(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))), inv, last);
      const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(a), b, 1);
      _mm512_store_si512(idx + j, _mm512_mask_blend_epi32(counted, skip, both));
    }
    for (size_t j = 0; j < m; j += 4) {
      ++c0[idx[j]];
      ++c1[idx[j + 1]];
      ++c2[idx[j + 2]];
      ++c3[idx[j + 3]];
    }
    i += m;
  }
  ref::abs_histogram(x + i, n - i, inv_width, bins, counts);
  if (kMinMax) {
    alignas(64) float l[16], h[16];
    _mm512_store_ps(l, vlo);
    _mm512_store_ps(h, vhi);
    ref::min_max(x + i, n - i, lo, hi);
    for (int k = 0; k < 16; ++k) {
      if (l[k] < *lo) *lo = l[k];
      if (h[k] > *hi) *hi = h[k];
    }
  }
}

void abs_histogram(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts) {
  histogram<false>(x, n, inv_width, bins, counts, nullptr, nullptr);
}

void abs_histogram_min_max(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts, float* lo,
                           float* hi) {
  histogram<true>(x, n, inv_width, bins, counts, lo, hi);
}

// Appends v's lanes in `pass` to out + m: compressed in a register and stored
// whole (a compress to memory is microcoded on Zen 4). Returns the new count.
inline size_t append_passing(__m512 v, __mmask16 pass, float* out, size_t m) {
  _mm512_storeu_ps(out + m, _mm512_maskz_compress_ps(pass, v));
  return m + static_cast<size_t>(__builtin_popcount(pass));
}

// min_max (as above) and the tail copy in one pass, two vectors a step (two
// accumulator pairs, as min_max: one pair's min/max latency chain held it to
// half the speed). Callers cut the tail at ~0.1% of the values: most steps have
// no lane that passes, and the branch predicts well. m <= i before the vector
// at i is appended, so the 16 floats stored at out + m stay inside out[0, i + 16).
size_t min_max_abs_at_least(const float* x, size_t n, float cutoff, float* out, float* lo, float* hi) {
  const __m512 c = _mm512_set1_ps(cutoff);
  __m512 lo0 = _mm512_set1_ps(std::numeric_limits<float>::infinity()), lo1 = lo0;
  __m512 hi0 = _mm512_set1_ps(-std::numeric_limits<float>::infinity()), hi1 = hi0;
  size_t m = 0, i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    lo0 = _mm512_min_ps(a, lo0);
    hi0 = _mm512_max_ps(a, hi0);
    lo1 = _mm512_min_ps(b, lo1);
    hi1 = _mm512_max_ps(b, hi1);
    const __mmask16 pa = _mm512_cmp_ps_mask(_mm512_abs_ps(a), c, _CMP_GE_OQ);
    const __mmask16 pb = _mm512_cmp_ps_mask(_mm512_abs_ps(b), c, _CMP_GE_OQ);
    if ((pa | pb) == 0) continue;
    if (pa != 0) m = append_passing(a, pa, out, m);
    if (pb != 0) m = append_passing(b, pb, out, m);
  }
  if (i + 16 <= n) {
    const __m512 a = _mm512_loadu_ps(x + i);
    lo0 = _mm512_min_ps(a, lo0);
    hi0 = _mm512_max_ps(a, hi0);
    const __mmask16 pa = _mm512_cmp_ps_mask(_mm512_abs_ps(a), c, _CMP_GE_OQ);
    if (pa != 0) m = append_passing(a, pa, out, m);
    i += 16;
  }
  alignas(64) float l[16], h[16];
  _mm512_store_ps(l, _mm512_min_ps(lo0, lo1));
  _mm512_store_ps(h, _mm512_max_ps(hi0, hi1));
  m += ref::min_max_abs_at_least(x + i, n - i, cutoff, out + m, lo, hi);
  for (int k = 0; k < 16; ++k) {
    if (l[k] < *lo) *lo = l[k];
    if (h[k] > *hi) *hi = h[k];
  }
  return m;
}

}  // namespace

extern const StatsPath kStatsPath = {Isa::kAvx512Vnni, min_max, abs_histogram, abs_histogram_min_max, min_max_abs_at_least};

}  // namespace avx512
}  // namespace lowbit
