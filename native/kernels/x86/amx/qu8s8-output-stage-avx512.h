// The output stage of the AMX path, 16 columns (one packed panel) at a time with
// AVX-512: zero-point correction (pack.h), then either int32 out or the fused
// requantization, bit-exact with requantize_one (requantize.h).
//
// The correction for row m, column n is
//   C = dot - za * colsum[n] - zb'[n] * rowsum[m] + K * za * zb'[n]
// where dot, za and rowsum are in the domain the kernel multiplied A in (raw
// int8 for tdpbssd, A_eff for tdpbusd / vpdpbusd). All terms are wrapping int32.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "amx-tile-ops.h"
#include "lowbit/gemm.h"

namespace lowbit {
namespace LOWBIT_AMX_NAMESPACE {

// Sums of each row's bytes as uint8 after XOR with `flip` (0 or 0x80), over the
// first k bytes only; wrapping int32 like every other term.
inline void row_sums_u8(const uint8_t* a, size_t a_stride, size_t rows, size_t k, uint8_t flip,
                        int32_t* out) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i flip_v = _mm512_set1_epi8(static_cast<char>(flip));
  const size_t k_full = k / 64 * 64;
  const __mmask64 tail = k % 64 == 0 ? 0 : (~__mmask64{0} >> (64 - k % 64));
  for (size_t r = 0; r < rows; ++r) {
    const uint8_t* row = a + r * a_stride;
    __m512i sum = zero;
    for (size_t p = 0; p < k_full; p += 64) {
      const __m512i v = _mm512_xor_si512(_mm512_loadu_si512(row + p), flip_v);
      sum = _mm512_add_epi64(sum, _mm512_sad_epu8(v, zero));
    }
    if (tail) {
      // Masked-off bytes are not read (no fault past the row) and must stay zero.
      const __m512i v = _mm512_xor_si512(_mm512_maskz_loadu_epi8(tail, row + k_full), flip_v);
      sum = _mm512_add_epi64(sum, _mm512_sad_epu8(_mm512_maskz_mov_epi8(tail, v), zero));
    }
    out[r] = static_cast<int32_t>(static_cast<uint32_t>(_mm512_reduce_add_epi64(sum)));
  }
}

// gemmlowp SaturatingRoundingDoublingHighMul on 16 lanes, without the one
// saturating case (a == b == INT32_MIN). Otherwise it equals
// floor((a*b + 2^30) / 2^31) (the scalar nudge-and-truncate, rewritten): bits
// 31..62 of the 64-bit sum.
inline __m512i srdhm_unsaturated_epi32(__m512i a, __m512i b) {
  const __m512i nudge = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(a, b), nudge);
  const __m512i odd = _mm512_add_epi64(
      _mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(b, 32)), nudge);
  // Even lanes want bits 31..62 in the low half, odd lanes in the high half.
  return _mm512_mask_mov_epi32(_mm512_srli_epi64(even, 31), 0xAAAA, _mm512_slli_epi64(odd, 1));
}

inline __m512i srdhm_epi32(__m512i a, __m512i b) {
  const __m512i int_min = _mm512_set1_epi32(INT32_MIN);
  const __mmask16 overflow = _mm512_cmpeq_epi32_mask(a, int_min) & _mm512_cmpeq_epi32_mask(b, int_min);
  return _mm512_mask_mov_epi32(srdhm_unsaturated_epi32(a, b), overflow, _mm512_set1_epi32(INT32_MAX));
}

// gemmlowp RoundingDivideByPOT, per-lane exponent in [0, 31], ties away from zero,
// with mask = 2^exponent - 1 prepared once per column block.
inline __m512i rounding_divide_by_pot_epi32(__m512i x, __m512i exponent, __m512i mask) {
  const __m512i remainder = _mm512_and_si512(x, mask);
  // threshold = (mask >> 1) + (x < 0): subtracting x >> 31 (0 or -1) adds the 1.
  const __m512i threshold = _mm512_sub_epi32(_mm512_srai_epi32(mask, 1), _mm512_srai_epi32(x, 31));
  const __m512i rounded = _mm512_srav_epi32(x, exponent);
  return _mm512_mask_add_epi32(rounded, _mm512_cmpgt_epi32_mask(remainder, threshold), rounded,
                               _mm512_set1_epi32(1));
}

inline __m512i pot_mask_epi32(__m512i exponent) {
  const __m512i one = _mm512_set1_epi32(1);
  return _mm512_sub_epi32(_mm512_sllv_epi32(one, exponent), one);
}

inline __m512i rounding_divide_by_pot_epi32(__m512i x, __m512i exponent) {
  return rounding_divide_by_pot_epi32(x, exponent, pot_mask_epi32(exponent));
}

// requantize.h's hardswish_steps on 16 lanes, in its order, one rounding per
// step (the build's -ffp-contract=off keeps x * k + 1/2 from becoming an FMA).
// vminps(one, t) is `t > 1 ? 1 : t` and vmaxps(zero, t) is `t < 0 ? 0 : t`,
// the scalar's selects operand for operand.
inline __m512 hardswish_steps_ps(__m512 x, __m512 k) {
  __m512 t = _mm512_mul_ps(x, k);
  t = _mm512_add_ps(t, _mm512_set1_ps(0.5f));
  t = _mm512_min_ps(_mm512_set1_ps(1.0f), t);
  t = _mm512_max_ps(_mm512_setzero_ps(), t);
  return _mm512_mul_ps(x, t);
}

class OutputStage {
 public:
  // za and the row sums the caller passes must be in the domain its dot products use.
  OutputStage(const GemmArgs& args, int32_t za, size_t n_end)
      : b_(*args.b), rq_(args.rq), c_(args.c), c_stride_(args.c_stride), n_end_(n_end) {
    za_ = static_cast<uint32_t>(za);
    kza_ = static_cast<uint32_t>(b_.k) * za_;
  }

  // zb' is zero for every column of [n_begin, n_end) (symmetric int8 weights): no row sums.
  static bool needs_row_sums(const PackedMatrix& b, size_t n_begin, size_t n_end) {
    for (size_t j = n_begin; j < n_end; ++j) {
      if (b.zero_point_s8[j] != 0) return true;
    }
    return false;
  }

  // acc: `rows` rows of 16 int32 (stride 16) for output rows [row, row + rows) and
  // columns [col, col + 16) clipped to n_end. row_sums: nullptr when not needed.
  void store(const int32_t* acc, size_t rows, const int32_t* row_sums, size_t row, size_t col) const {
    const size_t valid = n_end_ - col < 16 ? n_end_ - col : 16;
    const __mmask16 cols = static_cast<__mmask16>((1u << valid) - 1);
    const __m512i zb = _mm512_maskz_loadu_epi32(cols, b_.zero_point_s8.data() + col);
    const __m512i colsum = _mm512_maskz_loadu_epi32(cols, b_.column_sum.data() + col);
    // Everything that depends on the column only (bias included) is added once.
    __m512i col_term = _mm512_sub_epi32(_mm512_mullo_epi32(zb, _mm512_set1_epi32(static_cast<int32_t>(kza_))),
                                        _mm512_mullo_epi32(colsum, _mm512_set1_epi32(static_cast<int32_t>(za_))));
    if (rq_ == nullptr) {
      int32_t* out = static_cast<int32_t*>(c_) + row * c_stride_ + col;
      for (size_t r = 0; r < rows; ++r, out += c_stride_) {
        _mm512_mask_storeu_epi32(out, cols, corrected(acc + 16 * r, col_term, zb, row_sums, r));
      }
      return;
    }
    const Requantization& rq = *rq_;
    if (!rq.bias.empty()) col_term = _mm512_add_epi32(col_term, per_column(rq.bias.data(), rq.bias.size(), col, cols));
    uint8_t* out = static_cast<uint8_t*>(c_) + row * c_stride_ + col;
    const __m512i zp = _mm512_set1_epi32(rq.zero_point);
    if (rq.mode == RequantMode::kFp32) {
      // Decided once per call: the plain stage keeps its instruction sequence.
      if (rq.hardswish) {
        store_fp32<true>(acc, rows, row_sums, col_term, zb, out, cols, col);
      } else {
        store_fp32<false>(acc, rows, row_sums, col_term, zb, out, cols, col);
      }
      return;
    }
    const __m512i multiplier = per_column(rq.multiplier.data(), rq.multiplier.size(), col, cols);
    const __m512i shift = per_column(rq.shift.data(), rq.shift.size(), col, cols);
    const __m512i zero = _mm512_setzero_si512();
    const __m512i left = _mm512_max_epi32(shift, zero);
    const __m512i right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
    const __m512i right_mask = pot_mask_epi32(right);
    const __m512i qmin = _mm512_set1_epi32(rq.qmin);
    const __m512i qmax = _mm512_set1_epi32(rq.qmax);
    // Multipliers are Q31 in [0, 2^31 - 1], so saturation is for out-of-contract input only.
    const bool may_saturate = _mm512_cmpeq_epi32_mask(multiplier, _mm512_set1_epi32(INT32_MIN)) != 0;
    const bool shifts_left = _mm512_cmpgt_epi32_mask(left, zero) != 0;
    for (size_t r = 0; r < rows; ++r, out += c_stride_) {
      __m512i v = corrected(acc + 16 * r, col_term, zb, row_sums, r);
      if (shifts_left) v = _mm512_sllv_epi32(v, left);
      __m512i y = may_saturate ? srdhm_epi32(v, multiplier) : srdhm_unsaturated_epi32(v, multiplier);
      y = _mm512_add_epi32(rounding_divide_by_pot_epi32(y, right, right_mask), zp);
      // The scalar's order: below qmin -> qmin, else above qmax -> qmax.
      const __m512i clamped = _mm512_mask_mov_epi32(_mm512_min_epi32(y, qmax), _mm512_cmplt_epi32_mask(y, qmin), qmin);
      _mm512_mask_cvtepi32_storeu_epi8(out, cols, clamped);
    }
  }

 private:
  // The fp32 stage: scale, HardSwish when kHardSwish, clamp, round, zero point.
  template <bool kHardSwish>
  __attribute__((always_inline)) void store_fp32(const int32_t* acc, size_t rows, const int32_t* row_sums,
                                                 __m512i col_term, __m512i zb, uint8_t* out, __mmask16 cols,
                                                 size_t col) const {
    const Requantization& rq = *rq_;
    const __m512i zp = _mm512_set1_epi32(rq.zero_point);
    const __m512 scale = _mm512_castsi512_ps(
        per_column(reinterpret_cast<const int32_t*>(rq.scale.data()), rq.scale.size(), col, cols));
    const __m512 lo = _mm512_set1_ps(static_cast<float>(rq.qmin - rq.zero_point));
    const __m512 hi = _mm512_set1_ps(static_cast<float>(rq.qmax - rq.zero_point));
    const __m512 k = _mm512_set1_ps(rq.hardswish_k);
    for (size_t r = 0; r < rows; ++r, out += c_stride_) {
      const __m512i v = corrected(acc + 16 * r, col_term, zb, row_sums, r);
      __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(v), scale);
      if (kHardSwish) x = hardswish_steps_ps(x, k);
      // The scalar's order: below lo -> lo, else above hi -> hi.
      __m512 y = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), hi);
      y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), lo);
      // cvtps2dq rounds half to even in the default MXCSR mode, as nearbyint does.
      const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(y), zp);
      _mm512_mask_cvtepi32_storeu_epi8(out, cols, q);  // truncating, as static_cast
    }
  }

  static __m512i corrected(const int32_t* acc, __m512i col_term, __m512i zb, const int32_t* row_sums, size_t r) {
    __m512i v = _mm512_add_epi32(_mm512_loadu_si512(acc), col_term);
    if (row_sums != nullptr) v = _mm512_sub_epi32(v, _mm512_mullo_epi32(zb, _mm512_set1_epi32(row_sums[r])));
    return v;
  }

  // A parameter vector holds one value (per tensor) or one per column.
  static __m512i per_column(const int32_t* p, size_t count, size_t col, __mmask16 cols) {
    return count == 1 ? _mm512_set1_epi32(p[0]) : _mm512_maskz_loadu_epi32(cols, p + col);
  }

  const PackedMatrix& b_;
  const Requantization* rq_;
  void* c_;
  size_t c_stride_;
  size_t n_end_;
  uint32_t za_ = 0;
  uint32_t kza_ = 0;
};

}  // namespace LOWBIT_AMX_NAMESPACE
}  // namespace lowbit
