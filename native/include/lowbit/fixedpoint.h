// Fixed-point requantization primitives with gemmlowp / TFLite semantics.
// See docs/numerics.md for the formulas in prose. All functions are exact,
// defined for every int32 input (no undefined behaviour), and shared by ref/
// and by the scalar tails of the SIMD kernels.
#pragma once

#include <cstdint>
#include <limits>

namespace lowbit {
namespace fixedpoint {

// round(a * b / 2^31), ties rounded up (toward +infinity: the nudge is 2^30 for
// a positive product, 1 - 2^30 for a negative one, then division truncates),
// saturating the single overflow case a == b == INT32_MIN. This is gemmlowp's
// SaturatingRoundingDoublingHighMul exactly, quirks included.
inline int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == std::numeric_limits<int32_t>::min()) {
    return std::numeric_limits<int32_t>::max();
  }
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  // C++ division truncates toward zero, as gemmlowp's does.
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// x / 2^exponent rounded to nearest, ties away from zero (gemmlowp
// RoundingDivideByPOT). exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * 2^left_shift with two's-complement wrap-around, as the vector shifts
// (vpsllvd, vshlq_s32) of every optimized TFLite/ruy kernel behave.
inline int32_t wrapping_shift_left(int32_t x, int left_shift) {
  return static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
}

inline int32_t wrapping_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// TFLite MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31).
// multiplier in [0, 2^31 - 1] (a Q31 value in [0.5, 1) when non-zero),
// shift in [-31, 30]; positive shift = left.
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  return rounding_divide_by_pot(
      saturating_rounding_doubling_high_mul(wrapping_shift_left(x, left_shift), multiplier),
      right_shift);
}

// TFLite QuantizeMultiplier: real_multiplier = multiplier * 2^(shift - 31),
// multiplier a Q31 in [2^30, 2^31). Returns false for a negative or non-finite input.
bool quantize_multiplier(double real_multiplier, int32_t* multiplier, int* shift);

}  // namespace fixedpoint
}  // namespace lowbit
