// Min/max and the |x| histogram, 8 floats at a time. The bin index is ref's
// formula lane by lane: widen to double, clear the sign, multiply by 1/width,
// floor, clamp to the last bin; so every index equals abs_bin_index().
#include <immintrin.h>

#include <algorithm>
#include <limits>

#include "lowbit/stats.h"

namespace lowbit {
namespace avx2 {
namespace {

void min_max(const float* x, size_t n, float* lo, float* hi) {
  // min_ps(v, acc) returns acc when v is NaN: NaN never enters an accumulator.
  __m256 lo0 = _mm256_set1_ps(std::numeric_limits<float>::infinity()), lo1 = lo0;
  __m256 hi0 = _mm256_set1_ps(-std::numeric_limits<float>::infinity()), hi1 = hi0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    lo0 = _mm256_min_ps(a, lo0);
    hi0 = _mm256_max_ps(a, hi0);
    lo1 = _mm256_min_ps(b, lo1);
    hi1 = _mm256_max_ps(b, hi1);
  }
  if (i + 8 <= n) {
    const __m256 a = _mm256_loadu_ps(x + i);
    lo0 = _mm256_min_ps(a, lo0);
    hi0 = _mm256_max_ps(a, hi0);
    i += 8;
  }
  alignas(32) float l[8], h[8];
  _mm256_store_ps(l, _mm256_min_ps(lo0, lo1));
  _mm256_store_ps(h, _mm256_max_ps(hi0, hi1));
  float rl, rh;
  ref::min_max(x + i, n - i, &rl, &rh);
  for (int k = 0; k < 8; ++k) {
    if (l[k] < rl) rl = l[k];
    if (h[k] > rh) rh = h[k];
  }
  *lo = rl;
  *hi = rh;
}

constexpr size_t kHistogramBlock = 256;

// Four doubles' bin indices: floor(|v| * inv), clamped to last (NaN lanes
// clamp too; they are masked out by the caller).
inline __m128i bins_of(__m256d v, __m256d abs_mask, __m256d inv, __m256d last) {
  const __m256d b = _mm256_round_pd(_mm256_mul_pd(_mm256_and_pd(v, abs_mask), inv), _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  return _mm256_cvttpd_epi32(_mm256_min_pd(b, last));
}

// The histogram, and with kMinMax the extremes in the same pass (as min_max above).
template <bool kMinMax>
void histogram(const float* x, size_t n, double inv_width, uint32_t bins, uint32_t* counts, float* lo, float* hi) {
  __m256 vlo = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  __m256 vhi = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  const size_t stride = size_t{bins} + 1;
  uint32_t* c0 = counts;
  uint32_t* c1 = counts + stride;
  uint32_t* c2 = counts + 2 * stride;
  uint32_t* c3 = counts + 3 * stride;
  const __m256d inv = _mm256_set1_pd(inv_width);
  const __m256d last = _mm256_set1_pd(static_cast<double>(bins - 1));
  const __m256d abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
  const __m256i skip = _mm256_set1_epi32(static_cast<int>(bins));  // each copy's extra slot
  // Indices for a block first, then the increments: a scalar load right after the
  // vector store of its index would wait on store forwarding.
  alignas(32) uint32_t idx[kHistogramBlock];
  size_t i = 0;
  while (n - i >= 8) {
    const size_t m = std::min(kHistogramBlock, (n - i) & ~size_t{7});
    for (size_t j = 0; j < m; j += 8) {
      const __m256 v = _mm256_loadu_ps(x + i + j);
      if (kMinMax) {
        vlo = _mm256_min_ps(v, vlo);
        vhi = _mm256_max_ps(v, vhi);
      }
      const __m256 counted = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_NEQ_OQ);  // not zero, not NaN
      const __m128i a = bins_of(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), abs_mask, inv, last);
      const __m128i b = bins_of(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), abs_mask, inv, last);
      const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(a), b, 1);
      _mm256_store_si256(reinterpret_cast<__m256i*>(idx + j), _mm256_blendv_epi8(skip, both, _mm256_castps_si256(counted)));
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
    alignas(32) float l[8], h[8];
    _mm256_store_ps(l, vlo);
    _mm256_store_ps(h, vhi);
    ref::min_max(x + i, n - i, lo, hi);
    for (int k = 0; k < 8; ++k) {
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

// For each 8-bit lane mask, the lanes that pass moved to the front (a permute
// table: AVX2 has no compress). Built at compile time: code in this file may
// use AVX2, and a load-time constructor would run on CPUs without it.
struct CompressTable {
  alignas(64) uint8_t lanes[256][8] = {};
  constexpr CompressTable() {
    for (unsigned mask = 0; mask < 256; ++mask) {
      unsigned k = 0;
      for (unsigned lane = 0; lane < 8; ++lane) {
        if (mask & (1u << lane)) lanes[mask][k++] = static_cast<uint8_t>(lane);
      }
      while (k < 8) lanes[mask][k++] = 0;
    }
  }
};
constexpr CompressTable kCompress;

// min_max (as above) and the tail copy in one pass, two vectors a step. Callers
// cut the tail at ~0.1% of the values: most steps have no lane that passes, and
// the branch predicts well. Passing lanes are permuted to the front and all 8
// stored: m <= i, so the store stays inside out[0, i + 8).
size_t min_max_abs_at_least(const float* x, size_t n, float cutoff, float* out, float* lo, float* hi) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 c = _mm256_set1_ps(cutoff);
  // Two accumulator pairs, as min_max: one pair's min/max latency chain held it to half the speed.
  __m256 lo0 = _mm256_set1_ps(std::numeric_limits<float>::infinity()), lo1 = lo0;
  __m256 hi0 = _mm256_set1_ps(-std::numeric_limits<float>::infinity()), hi1 = hi0;
  const auto passing = [&](__m256 v) { return _mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(v, abs_mask), c, _CMP_GE_OQ)); };
  // v's lanes in `pass` to out + m, in order; m <= the index of v, so the 8 floats stored stay inside out.
  const auto append = [&](__m256 v, int pass, size_t m) {
    const __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(kCompress.lanes[pass])));
    _mm256_storeu_ps(out + m, _mm256_permutevar8x32_ps(v, idx));
    return m + static_cast<size_t>(__builtin_popcount(static_cast<unsigned>(pass)));
  };
  size_t m = 0, i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    lo0 = _mm256_min_ps(a, lo0);
    hi0 = _mm256_max_ps(a, hi0);
    lo1 = _mm256_min_ps(b, lo1);
    hi1 = _mm256_max_ps(b, hi1);
    const int pa = passing(a), pb = passing(b);
    if ((pa | pb) == 0) continue;
    if (pa != 0) m = append(a, pa, m);
    if (pb != 0) m = append(b, pb, m);
  }
  if (i + 8 <= n) {
    const __m256 a = _mm256_loadu_ps(x + i);
    lo0 = _mm256_min_ps(a, lo0);
    hi0 = _mm256_max_ps(a, hi0);
    const int pa = passing(a);
    if (pa != 0) m = append(a, pa, m);
    i += 8;
  }
  alignas(32) float l[8], h[8];
  _mm256_store_ps(l, _mm256_min_ps(lo0, lo1));
  _mm256_store_ps(h, _mm256_max_ps(hi0, hi1));
  m += ref::min_max_abs_at_least(x + i, n - i, cutoff, out + m, lo, hi);
  for (int k = 0; k < 8; ++k) {
    if (l[k] < *lo) *lo = l[k];
    if (h[k] > *hi) *hi = h[k];
  }
  return m;
}

}  // namespace

extern const StatsPath kStatsPath = {Isa::kAvx2, min_max, abs_histogram, abs_histogram_min_max, min_max_abs_at_least};

}  // namespace avx2
}  // namespace lowbit
