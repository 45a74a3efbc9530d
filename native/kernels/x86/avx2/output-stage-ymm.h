// What the two 256-bit int8 GEMM paths (x86/avx2 and x86/avxvnni) share: the
// per-block column arrays, A row sums, and the end of a tile (zero-point
// correction, fused output stage, store) on 8-column ymm vectors. Every step
// reproduces lowbit::requantize_one bit for bit (lowbit/requantize.h).
//
// Uses AVX2 instructions only. Functions are static (internal linkage): each
// path's translation units, compiled with their own flags, keep their own copy.
#pragma once

#include <immintrin.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../common/gemm-block.h"
#include "lowbit/gemm.h"

namespace lowbit {
namespace x86ymm {

using x86::BlockArrays;
using x86::block_columns;
using x86::Columns;
using x86::for_each_row_tile;
using x86::make_output_stage;
using x86::OutputKind;
using x86::OutputStage;

// One tile over the whole K: a points at the tile's first row in the layout
// the path's kernels read, w at the panel, c at C[row 0][col 0]. row_sum is
// nullptr when every zb' of the block is zero; cols_valid columns are stored.
using TileKernel = void (*)(size_t k, const void* a, size_t a_stride, const int8_t* w,
                            const int32_t* row_sum, const Columns& cols, const OutputStage& os,
                            void* c, size_t c_stride, size_t cols_valid);

// The lanes [0, valid) set, as a vpmaskmov mask.
static inline __m256i lane_mask(size_t valid) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(valid < 8 ? valid : 8)), index);
}

// A per-tensor value broadcast, or 8 per-column values (zero past `valid`).
static inline __m256i param_i32(const std::vector<int32_t>& v, bool per_tensor, size_t col, __m256i valid) {
  return per_tensor ? _mm256_set1_epi32(v[0]) : _mm256_maskload_epi32(v.data() + col, valid);
}

// Fills the per-column arrays for columns [n0, n0 + count), padded to a
// multiple of `pad`; za is the A zero point in the domain of the path's dot
// products. Returns whether any zb' of the block is non-zero.
static inline bool prepare_block(const PackedMatrix& b, const Requantization* rq, int32_t za,
                                 size_t n0, size_t count, size_t pad, BlockArrays* out) {
  const size_t padded = (count + pad - 1) / pad * pad;
  const __m256i vza = _mm256_set1_epi32(za);
  const __m256i kza =
      _mm256_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(b.k) * static_cast<uint32_t>(za)));
  // As requantize_one: the multiplier's count decides for the shift too.
  const bool fixed_per_tensor = rq != nullptr && rq->multiplier.size() == 1;
  const __m256i zero = _mm256_setzero_si256();
  __m256i any_zb = zero;
  for (size_t j = 0; j < padded; j += 8) {
    const size_t col = n0 + j;
    const __m256i valid = lane_mask(count > j ? count - j : 0);
    const __m256i colsum = _mm256_maskload_epi32(b.column_sum.data() + col, valid);
    const __m256i zb = _mm256_maskload_epi32(b.zero_point_s8.data() + col, valid);
    any_zb = _mm256_or_si256(any_zb, zb);
    __m256i offset = _mm256_sub_epi32(_mm256_mullo_epi32(zb, kza), _mm256_mullo_epi32(colsum, vza));
    if (rq != nullptr && !rq->bias.empty()) {
      const __m256i bias = param_i32(rq->bias, rq->bias.size() == 1, col, valid);
      offset = _mm256_add_epi32(offset, _mm256_and_si256(bias, valid));
    }
    _mm256_store_si256(reinterpret_cast<__m256i*>(out->offset + j), offset);
    _mm256_store_si256(reinterpret_cast<__m256i*>(out->zb + j), zb);
    if (rq == nullptr) continue;
    if (rq->mode == RequantMode::kFp32) {
      const __m256 s = rq->scale.size() == 1 ? _mm256_set1_ps(rq->scale[0])
                                             : _mm256_maskload_ps(rq->scale.data() + col, valid);
      _mm256_store_ps(out->scale + j, s);
    } else {
      const __m256i shift = param_i32(rq->shift, fixed_per_tensor, col, valid);
      const __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
      _mm256_store_si256(reinterpret_cast<__m256i*>(out->multiplier + j),
                         param_i32(rq->multiplier, fixed_per_tensor, col, valid));
      _mm256_store_si256(reinterpret_cast<__m256i*>(out->left_shift + j), _mm256_max_epi32(shift, zero));
      _mm256_store_si256(reinterpret_cast<__m256i*>(out->right_shift + j), right);
      const __m256i one = _mm256_set1_epi32(1);
      _mm256_store_si256(reinterpret_cast<__m256i*>(out->round_mask + j),
                         _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one));
    }
  }
  return !_mm256_testz_si256(any_zb, any_zb);
}

// Sum of the K bytes of a row, each XORed with `flip` (0 or 0x80), wrapping.
// Reads nothing past a + k.
static inline int32_t row_sum_u8(const uint8_t* a, size_t k, uint8_t flip) {
  const __m256i vflip = _mm256_set1_epi8(static_cast<char>(flip));
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc = zero;
  size_t i = 0;
  for (; i + 32 <= k; i += 32) {
    const __m256i v = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i)), vflip);
    acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, zero));
  }
  uint64_t sum = 0;
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
  for (uint64_t lane : lanes) sum += lane;
  for (; i < k; ++i) sum += static_cast<uint8_t>(a[i] ^ flip);
  return static_cast<int32_t>(static_cast<uint32_t>(sum));
}

// gemmlowp SaturatingRoundingDoublingHighMul on 8 lanes. The nudge (2^30 for
// a positive product, 1 - 2^30 for a negative one) followed by a truncating
// division is floor((a*b + 2^30) / 2^31) for both signs: bits 31..62 of the
// 64-bit sum, which a logical shift extracts as well as an arithmetic one. The
// result is at least INT32_MIN + 1 except for INT32_MIN * INT32_MIN (2^31,
// truncated to INT32_MIN): adding -1 where it is INT32_MIN saturates that case.
static inline __m256i srdhm(__m256i a, __m256i b) {
  const __m256i half = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i even = _mm256_add_epi64(_mm256_mul_epi32(a, b), half);
  const __m256i odd =
      _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), half);
  const __m256i r = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
  return _mm256_add_epi32(r, _mm256_cmpeq_epi32(r, _mm256_set1_epi32(INT32_MIN)));
}

// gemmlowp RoundingDivideByPOT (ties away from zero): mask = 2^shift - 1, the
// threshold is mask/2, one more for negative x.
static inline __m256i rdbpot(__m256i x, __m256i shift, __m256i mask) {
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(x, 31));
  return _mm256_sub_epi32(_mm256_srav_epi32(x, shift), _mm256_cmpgt_epi32(remainder, threshold));
}

// int32 lanes to their low bytes (truncation, as static_cast<uint8_t/int8_t>),
// in the low 8 bytes of an xmm.
static inline __m128i narrow_to_bytes(__m256i v) {
  const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                        0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_shuffle_epi8(v, pick);
  return _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
}

static inline void store_bytes(int8_t* out, __m128i bytes8, size_t cols) {
  if (cols >= 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), bytes8);
  } else {
    alignas(16) int8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes8);
    std::memcpy(out, tmp, cols);
  }
}

// requantize.h's hardswish_steps on 8 lanes, in its order, one rounding per
// step (the build's -ffp-contract=off keeps x * k + 1/2 from becoming an FMA).
// vminps(one, t) is `t > 1 ? 1 : t` and vmaxps(zero, t) is `t < 0 ? 0 : t`,
// the scalar's selects operand for operand.
__attribute__((always_inline)) static inline __m256 hardswish_steps(__m256 x, __m256 k) {
  __m256 t = _mm256_mul_ps(x, k);
  t = _mm256_add_ps(t, _mm256_set1_ps(0.5f));
  t = _mm256_min_ps(_mm256_set1_ps(1.0f), t);
  t = _mm256_max_ps(_mm256_setzero_ps(), t);
  return _mm256_mul_ps(x, t);
}

// The fp32 output stage of a corrected tile: scale, HardSwish when kHardSwish,
// clamp, round half to even, zero point, store.
template <size_t MR, size_t NV, bool kHardSwish>
__attribute__((always_inline)) static inline void store_fp32(__m256i (&acc)[MR][NV], const Columns& cols,
                                                             const OutputStage& os, void* c, size_t c_stride,
                                                             size_t cols_valid) {
  auto* out = static_cast<int8_t*>(c);
  const __m256 lo = _mm256_set1_ps(os.lo), hi = _mm256_set1_ps(os.hi);
  const __m256i zp = _mm256_set1_epi32(os.zero_point);
  const __m256 k = _mm256_set1_ps(os.hardswish_k);
#pragma GCC unroll 2
  for (size_t j = 0; j < NV; ++j) {
    if (j * 8 >= cols_valid) break;
    const __m256 scale = _mm256_loadu_ps(cols.scale + 8 * j);
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) {
      __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[r][j]), scale);
      if (kHardSwish) x = hardswish_steps(x, k);
      // x < lo ? lo : (x > hi ? hi : x), NaN-faithful: vminps(hi, x) returns x unless hi < x.
      const __m256 below = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
      x = _mm256_blendv_ps(_mm256_min_ps(hi, x), lo, below);
      const __m256i y = _mm256_add_epi32(_mm256_cvtps_epi32(x), zp);  // round half to even
      store_bytes(out + r * c_stride + 8 * j, narrow_to_bytes(y), cols_valid - 8 * j);
    }
  }
}

// Corrects an MR x (8*NV) tile of dot products, applies the output stage and
// stores cols_valid columns of each row.
template <size_t MR, size_t NV>
__attribute__((always_inline)) static inline void finish_tile(__m256i (&acc)[MR][NV], const int32_t* row_sum,
                                                              const Columns& cols, const OutputStage& os,
                                                              void* c, size_t c_stride, size_t cols_valid) {
#pragma GCC unroll 2
  for (size_t j = 0; j < NV; ++j) {
    const __m256i offset = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols.offset + 8 * j));
#pragma GCC unroll 8
    for (size_t r = 0; r < MR; ++r) acc[r][j] = _mm256_add_epi32(acc[r][j], offset);
  }
  if (row_sum != nullptr) {
#pragma GCC unroll 2
    for (size_t j = 0; j < NV; ++j) {
      const __m256i zb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols.zb + 8 * j));
#pragma GCC unroll 8
      for (size_t r = 0; r < MR; ++r) {
        acc[r][j] = _mm256_sub_epi32(acc[r][j], _mm256_mullo_epi32(zb, _mm256_set1_epi32(row_sum[r])));
      }
    }
  }
  const size_t full_vectors = cols_valid / 8;  // vectors [0, full_vectors) are stored whole

  switch (os.kind) {
    case OutputKind::kInt32: {
      auto* out = static_cast<int32_t*>(c);
#pragma GCC unroll 2
      for (size_t j = 0; j < NV; ++j) {
        if (j < full_vectors) {
#pragma GCC unroll 8
          for (size_t r = 0; r < MR; ++r)
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + r * c_stride + 8 * j), acc[r][j]);
        } else if (j * 8 < cols_valid) {
          const __m256i mask = lane_mask(cols_valid - 8 * j);
#pragma GCC unroll 8
          for (size_t r = 0; r < MR; ++r) _mm256_maskstore_epi32(out + r * c_stride + 8 * j, mask, acc[r][j]);
        }
      }
      return;
    }
    case OutputKind::kFp32:
      // Decided once per tile: the plain stage keeps its instruction sequence.
      if (os.hardswish) {
        store_fp32<MR, NV, true>(acc, cols, os, c, c_stride, cols_valid);
      } else {
        store_fp32<MR, NV, false>(acc, cols, os, c, c_stride, cols_valid);
      }
      return;
    case OutputKind::kFixedpoint: {
      auto* out = static_cast<int8_t*>(c);
      const __m256i zp = _mm256_set1_epi32(os.zero_point);
      const __m256i qmin = _mm256_set1_epi32(os.qmin), qmax = _mm256_set1_epi32(os.qmax);
#pragma GCC unroll 2
      for (size_t j = 0; j < NV; ++j) {
        if (j * 8 >= cols_valid) break;
        const __m256i multiplier =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols.multiplier + 8 * j));
        const __m256i left = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols.left_shift + 8 * j));
        const __m256i right = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols.right_shift + 8 * j));
        const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cols.round_mask + 8 * j));
#pragma GCC unroll 8
        for (size_t r = 0; r < MR; ++r) {
          __m256i y = srdhm(_mm256_sllv_epi32(acc[r][j], left), multiplier);  // vpsllvd wraps
          y = _mm256_add_epi32(rdbpot(y, right, mask), zp);
          // y < qmin ? qmin : (y > qmax ? qmax : y), exact even for qmin > qmax.
          y = _mm256_blendv_epi8(_mm256_min_epi32(y, qmax), qmin, _mm256_cmpgt_epi32(qmin, y));
          store_bytes(out + r * c_stride + 8 * j, narrow_to_bytes(y), cols_valid - 8 * j);
        }
      }
      return;
    }
  }
}

}  // namespace x86ymm
}  // namespace lowbit
