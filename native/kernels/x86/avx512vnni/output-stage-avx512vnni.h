// The end of every AVX512-VNNI tile: zero-point correction, fused output stage
// and store, straight from the accumulator registers (no second pass over C).
// Each step reproduces lowbit::requantize_one bit for bit; see
// native/include/lowbit/requantize.h and fixedpoint.h for the scalar definition.
#pragma once

#include <immintrin.h>

#include <climits>
#include <cstddef>
#include <cstdint>

#include "gemm-avx512vnni.h"

namespace lowbit {
namespace avx512vnni {

// gemmlowp SaturatingRoundingDoublingHighMul on 16 lanes. With the nudge
// 2^30 for a positive product and 1 - 2^30 for a negative one followed by a
// truncating division, both signs reduce to floor((a*b + 2^30) / 2^31), an
// arithmetic shift of the 64-bit sum. That is at least INT32_MIN + 1 for every
// product except INT32_MIN * INT32_MIN (2^31, truncated to INT32_MIN), so a
// result of INT32_MIN identifies the one case that saturates.
__attribute__((always_inline)) inline __m512i srdhm(__m512i a, __m512i b) {
  const __m512i half = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(a, b), half);
  const __m512i odd = _mm512_add_epi64(
      _mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32)), half);
  // Bits 31..62 of each sum: low half of (even >> 31), high half of (odd << 1).
  const __m512i r = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31),
                                            _mm512_slli_epi64(odd, 1));
  const __m512i min = _mm512_set1_epi32(INT32_MIN);
  return _mm512_mask_mov_epi32(r, _mm512_cmpeq_epi32_mask(r, min), _mm512_set1_epi32(INT32_MAX));
}

// gemmlowp RoundingDivideByPOT: ties away from zero. mask = 2^shift - 1; the
// threshold is mask/2, one more for negative x, so a negative tie rounds down.
__attribute__((always_inline)) inline __m512i rdbpot(__m512i x, __m512i shift, __m512i mask) {
  const __m512i remainder = _mm512_and_si512(x, mask);
  const __m512i threshold = _mm512_sub_epi32(_mm512_srli_epi32(mask, 1), _mm512_srai_epi32(x, 31));
  const __m512i q = _mm512_srav_epi32(x, shift);
  return _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(remainder, threshold), q,
                               _mm512_set1_epi32(1));
}

// requantize.h's hardswish_steps on 16 lanes, in its order, one rounding per
// step (the build's -ffp-contract=off keeps x * k + 1/2 from becoming an FMA).
// vminps(one, t) is `t > 1 ? 1 : t` and vmaxps(zero, t) is `t < 0 ? 0 : t`,
// the scalar's selects operand for operand.
__attribute__((always_inline)) inline __m512 hardswish_steps(__m512 x, __m512 k) {
  __m512 t = _mm512_mul_ps(x, k);
  t = _mm512_add_ps(t, _mm512_set1_ps(0.5f));
  t = _mm512_min_ps(_mm512_set1_ps(1.0f), t);
  t = _mm512_max_ps(_mm512_setzero_ps(), t);
  return _mm512_mul_ps(x, t);
}

// The fp32 output stage of a corrected MR x 32 tile: scale, HardSwish when
// kHardSwish, clamp, round half to even, zero point, masked store.
template <size_t MR, bool kHardSwish>
__attribute__((always_inline)) inline void store_fp32(__m512i (&acc)[MR][2], const Columns& cols,
                                                      const OutputStage& os, void* c, size_t c_stride,
                                                      const __mmask16 (&store_mask)[2]) {
  auto* out = static_cast<int8_t*>(c);
  const __m512 lo = _mm512_set1_ps(os.lo), hi = _mm512_set1_ps(os.hi);
  const __m512i zp = _mm512_set1_epi32(os.zero_point);
  const __m512 k = _mm512_set1_ps(os.hardswish_k);
#pragma GCC unroll 2
  for (size_t j = 0; j < 2; ++j) {
    const __m512 scale = _mm512_loadu_ps(cols.scale + 16 * j);
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(acc[r][j]), scale);
      if (kHardSwish) x = hardswish_steps(x, k);
      // x < lo ? lo : (x > hi ? hi : x), NaN-faithful: vminps(hi, x) returns x unless hi < x.
      const __mmask16 below = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
      x = _mm512_mask_mov_ps(_mm512_min_ps(hi, x), below, lo);
      const __m512i y = _mm512_add_epi32(_mm512_cvtps_epi32(x), zp);  // round half to even
      // vpmovdb truncates, as static_cast<uint8_t/int8_t> does.
      _mm512_mask_cvtepi32_storeu_epi8(out + r * c_stride + 16 * j, store_mask[j], y);
    }
  }
}

// Corrects the dot products of an MR x 32 tile, applies the output stage and
// stores the first cols_valid columns of each row.
template <size_t MR>
__attribute__((always_inline)) inline void finish_tile(__m512i (&acc)[MR][2], const int32_t* row_sum,
                                                       const Columns& cols, const OutputStage& os,
                                                       void* c, size_t c_stride, size_t cols_valid) {
  const __mmask16 store_mask[2] = {
      static_cast<__mmask16>(cols_valid >= 16 ? 0xFFFF : (1u << cols_valid) - 1),
      static_cast<__mmask16>(cols_valid >= 32 ? 0xFFFF : cols_valid <= 16 ? 0 : (1u << (cols_valid - 16)) - 1)};

#pragma GCC unroll 2
  for (size_t j = 0; j < 2; ++j) {
    const __m512i offset = _mm512_loadu_si512(cols.offset + 16 * j);
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) acc[r][j] = _mm512_add_epi32(acc[r][j], offset);
  }
  if (row_sum != nullptr) {
#pragma GCC unroll 2
    for (size_t j = 0; j < 2; ++j) {
      const __m512i zb = _mm512_loadu_si512(cols.zb + 16 * j);
#pragma GCC unroll 8
      for (size_t r = 0; r < MR; ++r) {
        acc[r][j] = _mm512_sub_epi32(acc[r][j], _mm512_mullo_epi32(zb, _mm512_set1_epi32(row_sum[r])));
      }
    }
  }

  switch (os.kind) {
    case OutputKind::kInt32: {
      auto* out = static_cast<int32_t*>(c);
#pragma GCC unroll 8
      for (size_t r = 0; r < MR; ++r) {
#pragma GCC unroll 2
        for (size_t j = 0; j < 2; ++j) {
          _mm512_mask_storeu_epi32(out + r * c_stride + 16 * j, store_mask[j], acc[r][j]);
        }
      }
      return;
    }
    case OutputKind::kFp32:
      // Decided once per tile: the plain stage keeps its instruction sequence.
      if (os.hardswish) {
        store_fp32<MR, true>(acc, cols, os, c, c_stride, store_mask);
      } else {
        store_fp32<MR, false>(acc, cols, os, c, c_stride, store_mask);
      }
      return;
    case OutputKind::kFixedpoint: {
      auto* out = static_cast<int8_t*>(c);
      const __m512i zp = _mm512_set1_epi32(os.zero_point);
      const __m512i qmin = _mm512_set1_epi32(os.qmin), qmax = _mm512_set1_epi32(os.qmax);
#pragma GCC unroll 2
      for (size_t j = 0; j < 2; ++j) {
        const __m512i multiplier = _mm512_loadu_si512(cols.multiplier + 16 * j);
        const __m512i left = _mm512_loadu_si512(cols.left_shift + 16 * j);
        const __m512i right = _mm512_loadu_si512(cols.right_shift + 16 * j);
        const __m512i mask = _mm512_loadu_si512(cols.round_mask + 16 * j);
#pragma GCC unroll 8
        for (size_t r = 0; r < MR; ++r) {
          __m512i y = srdhm(_mm512_sllv_epi32(acc[r][j], left), multiplier);  // vpsllvd wraps
          y = _mm512_add_epi32(rdbpot(y, right, mask), zp);
          // y < qmin ? qmin : (y > qmax ? qmax : y), exact even for qmin > qmax.
          const __mmask16 below = _mm512_cmplt_epi32_mask(y, qmin);
          y = _mm512_mask_mov_epi32(_mm512_min_epi32(y, qmax), below, qmin);
          _mm512_mask_cvtepi32_storeu_epi8(out + r * c_stride + 16 * j, store_mask[j], y);
        }
      }
      return;
    }
  }
}

}  // namespace avx512vnni
}  // namespace lowbit
