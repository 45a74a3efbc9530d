// Fixed-point primitives: known values, boundaries, and TFLite QuantizeMultiplier.
#include <climits>
#include <cmath>

#include "harness.h"
#include "lowbit/fixedpoint.h"

using namespace lowbit::fixedpoint;

TEST(fixedpoint_srdhm_boundaries) {
  CHECK_EQ(saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX);
  CHECK_EQ(saturating_rounding_doubling_high_mul(INT32_MAX, INT32_MAX), INT32_MAX - 1);
  CHECK_EQ(saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MAX), -INT32_MAX);
  CHECK_EQ(saturating_rounding_doubling_high_mul(0, INT32_MIN), 0);
  // Multiplying by 2^30 (0.5 in Q31) halves: ties go up (toward +infinity).
  CHECK_EQ(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);    // 0.5 -> 1
  CHECK_EQ(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);   // -0.5 -> 0
  CHECK_EQ(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5 -> 2
  CHECK_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);  // -1.5 -> -1
  CHECK_EQ(saturating_rounding_doubling_high_mul(1000, 1 << 30), 500);
}

TEST(fixedpoint_rounding_divide_by_pot) {
  CHECK_EQ(rounding_divide_by_pot(5, 1), 3);    // 2.5 -> 3
  CHECK_EQ(rounding_divide_by_pot(-5, 1), -3);  // -2.5 -> -3 (away from zero)
  CHECK_EQ(rounding_divide_by_pot(-1, 1), -1);
  CHECK_EQ(rounding_divide_by_pot(7, 0), 7);
  CHECK_EQ(rounding_divide_by_pot(INT32_MAX, 31), 1);
  CHECK_EQ(rounding_divide_by_pot(INT32_MIN, 31), -1);
  CHECK_EQ(rounding_divide_by_pot(INT32_MIN, 1), INT32_MIN / 2);
  // Against exact rational rounding (half away from zero) on a sweep.
  for (int e = 0; e <= 31; ++e) {
    for (int64_t x : {int64_t{INT32_MIN}, int64_t{INT32_MIN} + 1, int64_t{-12345678}, int64_t{-3}, int64_t{0},
                      int64_t{3}, int64_t{12345678}, int64_t{INT32_MAX} - 1, int64_t{INT32_MAX}}) {
      const long double q = static_cast<long double>(x) / std::ldexp(1.0L, e);
      const int64_t expect = static_cast<int64_t>(std::round(q));  // std::round: half away from zero
      CHECK_EQ(static_cast<int64_t>(rounding_divide_by_pot(static_cast<int32_t>(x), e)), expect);
    }
  }
}

TEST(fixedpoint_quantize_multiplier) {
  int32_t m;
  int s;
  CHECK(quantize_multiplier(0.5, &m, &s));
  CHECK_EQ(m, 1 << 30);
  CHECK_EQ(s, 0);
  CHECK(quantize_multiplier(1.0, &m, &s));
  CHECK_EQ(m, 1 << 30);
  CHECK_EQ(s, 1);
  CHECK(quantize_multiplier(0.0, &m, &s));
  CHECK_EQ(m, 0);
  CHECK(!quantize_multiplier(-1.0, &m, &s));
  CHECK(!quantize_multiplier(NAN, &m, &s));
  // Just below 1.0: q rounds up to 2^31 and is renormalised.
  CHECK(quantize_multiplier(std::nextafter(1.0, 0.0), &m, &s));
  CHECK_EQ(m, 1 << 30);
  CHECK_EQ(s, 1);
  // Tiny scales underflow to a zero multiplier.
  CHECK(quantize_multiplier(1e-12, &m, &s));
  CHECK_EQ(m, 0);
  CHECK_EQ(s, 0);
  // multiplier * 2^(shift-31) reproduces the scale to 2^-31 relative.
  for (double v : {1e-9, 3.7e-5, 0.00392156862745098, 0.1, 0.75, 1.5, 123.456}) {
    CHECK(quantize_multiplier(v, &m, &s));
    const double back = std::ldexp(static_cast<double>(m), s - 31);
    CHECK(std::fabs(back - v) <= v * std::ldexp(1.0, -30));
  }
}

TEST(fixedpoint_multiply_by_quantized_multiplier) {
  CHECK_EQ(multiply_by_quantized_multiplier(100, 1 << 30, 0), 50);
  CHECK_EQ(multiply_by_quantized_multiplier(100, 1 << 30, 1), 100);
  CHECK_EQ(multiply_by_quantized_multiplier(100, 1 << 30, -1), 25);
  CHECK_EQ(multiply_by_quantized_multiplier(-100, 1 << 30, -3), -6);  // -6.25 -> -6
  // Left shifts wrap like the vector shift instructions do.
  CHECK_EQ(multiply_by_quantized_multiplier(INT32_MAX, INT32_MAX, 30), saturating_rounding_doubling_high_mul(static_cast<int32_t>(0xC0000000u), INT32_MAX));
}
