// What the two 256-bit small-m convolution kernels (avx2, avxvnni) share: 8
// output pixels per ymm, output channels in chunks of 8 accumulators (16 ymm
// registers leave no room for more), the per-channel output stage on 8 pixels
// and the NHWC store. The dot products come from the path's `Dot`. The fp32
// stage applies HardSwish when the params ask (x86ymm::hardswish_steps, output-stage-ymm.h).
// Uses AVX2 only; static functions (see output-stage-ymm.h).
#pragma once

#include <immintrin.h>

#include "../common/conv-small-m-block.h"
#include "dwconv-stage-ymm.h"
#include "output-stage-ymm.h"

namespace lowbit {
namespace x86ymm {

// dot(gathered, w, c0, acc) sets acc[j] (j < 8) to the dot products of the
// block's 8 pixels with channel c0 + j. kHardSwish: the fp32 stage applies
// HardSwish (run_small_m decides per call).
template <size_t MP, bool kHardSwish, class Dot>
static inline void run_small_m_stage(const SmallMArgs& a, size_t r0, size_t r1, Dot&& dot) {
  const PackedSmallM& w = *a.w;
  const SmallMParams& p = *a.params;
  x86::for_each_pixel_block<8>(a, r0, r1, [&](const uint8_t* gathered, uint8_t* out, size_t valid) {
    __m128i bytes[MP];
    for (size_t c0 = 0; c0 < MP; c0 += 8) {
      constexpr size_t kChunk = MP < 8 ? MP : 8;
      __m256i acc[kChunk];
      dot(gathered, w, c0, acc);
      if (p.fp32) {
        const __m256 lo = _mm256_set1_ps(p.lo), hi = _mm256_set1_ps(p.hi);
        const __m256 k = _mm256_set1_ps(p.hardswish_k);
        const __m256i zp = _mm256_set1_epi32(p.zero_point);
#pragma GCC unroll 8
        for (size_t j = 0; j < kChunk; ++j) {
          const __m256i v = _mm256_add_epi32(acc[j], _mm256_set1_epi32(p.init[c0 + j]));
          __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(p.scale[c0 + j]));
          if (kHardSwish) x = x86ymm::hardswish_steps(x, k);  // hardswish_steps (lowbit/requantize.h)
          // x < lo ? lo : (x > hi ? hi : x), NaN-faithful as the GEMM's output stage.
          const __m256 below = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
          x = _mm256_blendv_ps(_mm256_min_ps(hi, x), lo, below);
          bytes[c0 + j] = narrow_to_bytes(_mm256_add_epi32(_mm256_cvtps_epi32(x), zp));
        }
      } else {
        const __m256i zp = _mm256_set1_epi32(p.zero_point);
        const __m256i qmin = _mm256_set1_epi32(p.qmin), qmax = _mm256_set1_epi32(p.qmax);
#pragma GCC unroll 8
        for (size_t j = 0; j < kChunk; ++j) {
          const size_t c = c0 + j;
          const __m256i v = _mm256_add_epi32(acc[j], _mm256_set1_epi32(p.init[c]));
          __m256i y = srdhm(_mm256_sllv_epi32(v, _mm256_set1_epi32(p.left_shift[c])),
                            _mm256_set1_epi32(p.multiplier[c]));
          y = _mm256_add_epi32(rdbpot(y, _mm256_set1_epi32(p.right_shift[c]), _mm256_set1_epi32(p.round_mask[c])),
                               zp);
          y = _mm256_blendv_epi8(_mm256_min_epi32(y, qmax), qmin, _mm256_cmpgt_epi32(qmin, y));
          bytes[c] = narrow_to_bytes(y);
        }
      }
    }
    x86::store_pixels<MP>(bytes, out, a.m, valid);  // bytes 8-15 of each register: never stored
  });
}

template <size_t MP, class Dot>
static inline void run_small_m(const SmallMArgs& a, size_t r0, size_t r1, Dot&& dot) {
  // HardSwish or not, decided once per call: two variants of the kernel.
  if (a.params->fp32 && a.params->hardswish) run_small_m_stage<MP, true>(a, r0, r1, dot);
  else run_small_m_stage<MP, false>(a, r0, r1, dot);
}

}  // namespace x86ymm
}  // namespace lowbit
