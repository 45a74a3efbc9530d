// ARM output stage on boundary values: the NEON requantization primitives
// against fixedpoint.h lane by lane, then the whole fused output stage of every
// ARM GEMM path against requantize_one on accumulators chosen to land on ties,
// near INT32_MIN / INT32_MAX (with wrap-around), at every shift in [-31, 30]
// and, with HardSwish, densely around both of its bends.
#if defined(__aarch64__)

#include <climits>
#include <cmath>
#include <cstring>
#include <vector>

#include "../kernels/arm/common/gemm-microkernel.h"
#include "harness.h"
#include "lowbit/gemm.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

std::vector<int32_t> boundary_values() {
  std::vector<int32_t> v = {INT32_MIN, INT32_MIN + 1, INT32_MIN + 2, -(1 << 30) - 1, -(1 << 30),
                            -(1 << 30) + 1, -65536, -32769, -32768, -257, -256, -255, -129, -128,
                            -127, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 127, 128, 255, 256,
                            32767, 32768, 65535, (1 << 30) - 1, 1 << 30, (1 << 30) + 1,
                            INT32_MAX - 2, INT32_MAX - 1, INT32_MAX};
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  for (int i = 0; i < 64; ++i) v.push_back(any(rng()));
  return v;
}

// Runs f on every element of `in`, four lanes at a time.
template <class F>
std::vector<int32_t> lanes(const std::vector<int32_t>& in, F f) {
  std::vector<int32_t> padded(in), out((in.size() + 3) / 4 * 4);
  padded.resize(out.size(), 0);
  for (size_t i = 0; i < out.size(); i += 4) vst1q_s32(&out[i], f(vld1q_s32(&padded[i])));
  out.resize(in.size());
  return out;
}

bool is_arm_path(Isa isa) { return isa == Isa::kNeon || isa == Isa::kNeonDot; }

}  // namespace

TEST(arm_sqrdmulh_is_saturating_rounding_doubling_high_mul) {
  const auto values = boundary_values();
  for (int32_t b : values) {
    const auto got = lanes(values, [b](int32x4_t a) { return vqrdmulhq_s32(a, vdupq_n_s32(b)); });
    for (size_t i = 0; i < values.size(); ++i) {
      CHECK_EQ(got[i], fixedpoint::saturating_rounding_doubling_high_mul(values[i], b));
    }
    RETURN_IF_FAILED();
  }
  // The exact ties: a * b = odd multiple of 2^30 goes toward +infinity on both sides.
  for (int32_t a = -9; a <= 9; a += 2) {
    const int32_t got = vgetq_lane_s32(vqrdmulhq_s32(vdupq_n_s32(a), vdupq_n_s32(1 << 30)), 0);
    CHECK_EQ(got, fixedpoint::saturating_rounding_doubling_high_mul(a, 1 << 30));
  }
}

TEST(arm_rounding_divide_by_pot_rounds_ties_away_from_zero) {
  auto values = boundary_values();
  for (int e = 0; e <= 31; ++e) {
    std::vector<int32_t> x = values;
    // Every tie (odd multiple of 2^(e-1)) near zero and near the ends of the range.
    if (e > 0) {
      const int64_t half = int64_t{1} << (e - 1);
      for (int64_t j = -7; j <= 7; j += 2) {
        for (int64_t base :
             {int64_t{0}, int64_t{INT32_MIN} + (half * 8), int64_t{INT32_MAX} - (half * 8)}) {
          const int64_t t = base / (2 * half) * (2 * half) + j * half;
          if (t >= INT32_MIN && t <= INT32_MAX) {
            x.push_back(static_cast<int32_t>(t));
            if (t > INT32_MIN) x.push_back(static_cast<int32_t>(t - 1));
            if (t < INT32_MAX) x.push_back(static_cast<int32_t>(t + 1));
          }
        }
      }
    }
    const auto got =
        lanes(x, [e](int32x4_t v) { return arm::rounding_divide_by_pot(v, vdupq_n_s32(-e)); });
    for (size_t i = 0; i < x.size(); ++i) {
      CHECK_EQ(got[i], fixedpoint::rounding_divide_by_pot(x[i], e));
    }
    RETURN_IF_FAILED();
  }
  // Without the fixup SRSHL alone rounds -2.5 to -2: the case the fixup exists for.
  CHECK_EQ(vgetq_lane_s32(vrshlq_s32(vdupq_n_s32(-5), vdupq_n_s32(-1)), 0), -2);
  CHECK_EQ(vgetq_lane_s32(arm::rounding_divide_by_pot(vdupq_n_s32(-5), vdupq_n_s32(-1)), 0), -3);
}

TEST(arm_multiply_by_quantized_multiplier_every_shift) {
  const auto values = boundary_values();
  const int32_t multipliers[] = {0, 1, 2, 1 << 29, (1 << 30) - 1, 1 << 30, (1 << 30) + 1,
                                 1518500250, INT32_MAX - 1, INT32_MAX};
  for (int shift = -31; shift <= 30; ++shift) {
    for (int32_t mult : multipliers) {
      const auto got = lanes(values, [&](int32x4_t v) {
        return arm::multiply_by_quantized_multiplier(v, vdupq_n_s32(mult),
                                                     vdupq_n_s32(shift > 0 ? shift : 0),
                                                     vdupq_n_s32(shift > 0 ? 0 : shift));
      });
      for (size_t i = 0; i < values.size(); ++i) {
        CHECK_EQ(got[i], fixedpoint::multiply_by_quantized_multiplier(values[i], mult, shift));
      }
    }
    RETURN_IF_FAILED();
  }
}

namespace {

// C = A (M x 1, int8) * B (1 x N, all ones) + bias[n]: the accumulator of output
// (m, n) is bias[n] + A[m] (wrapping), so the bias picks the value under test and
// the rows probe its neighbours. Compares the fused path with requantize_one.
void check_output_stage(Isa isa, const Requantization& rq, size_t n) {
  const GemmPath* path = gemm_path(isa);
  const int8_t rows[] = {-128, -4, -3, -2, -1, 0, 1, 2, 3, 4, 127};
  const size_t m = sizeof(rows);
  std::vector<int8_t> b(n, 1);
  PackedMatrix packed;
  pack_matrix(*path, b.data(), true, 1, n, n, {}, &packed);
  std::vector<uint8_t> got(m * n, 0xCD);
  GemmArgs args;
  args.m = m;
  args.a = rows;
  args.a_stride = 1;
  args.a_signed = true;
  args.b = &packed;
  args.rq = &rq;
  args.c = got.data();
  args.c_stride = n;
  gemm(*path, args);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      const int32_t y = requantize_one(rq, rows[i], j);
      const int32_t expect = rq.out_signed ? static_cast<int8_t>(y) : static_cast<uint8_t>(y);
      const int32_t g = rq.out_signed ? static_cast<int8_t>(got[i * n + j]) : got[i * n + j];
      if (g != expect) {
        record_failure(__FILE__, __LINE__,
                       std::string(isa_name(isa)) + ": acc " +
                           std::to_string(fixedpoint::wrapping_add(rq.bias[j], rows[i])) +
                           (rq.mode == RequantMode::kFixedpoint
                                ? " multiplier " + std::to_string(rq.multiplier[j]) + " shift " +
                                      std::to_string(rq.shift[j])
                                : " scale " + std::to_string(rq.scale[j])) +
                           ": got " + std::to_string(g) + ", expected " + std::to_string(expect));
        return;
      }
    }
  }
}

void set_output_range(Requantization* rq, bool out_signed, int variant) {
  rq->out_signed = out_signed;
  rq->zero_point = out_signed ? (variant == 0 ? 0 : -17) : (variant == 0 ? 128 : 3);
  rq->qmin = out_signed ? -128 : 0;
  rq->qmax = out_signed ? 127 : 255;
  if (variant == 2) {  // a fused ReLU6-like range
    rq->qmin = rq->zero_point;
    rq->qmax = rq->zero_point + 96;
  }
}

// The output stage over each clamp variant and both output types; false after
// the first failing combination.
bool check_every_output_range(Isa isa, Requantization* rq) {
  for (int variant = 0; variant < 3; ++variant) {
    for (bool out_signed : {false, true}) {
      set_output_range(rq, out_signed, variant);
      check_output_stage(isa, *rq, rq->bias.size());
      if (failures_in_current_case() > 0) return false;
    }
  }
  return true;
}

}  // namespace

TEST(arm_fused_fixedpoint_output_stage_boundaries) {
  bool any = false;
  for (Isa isa : isas_under_test()) {
    if (!is_arm_path(isa)) continue;
    any = true;
    Requantization rq;
    rq.mode = RequantMode::kFixedpoint;
    const int32_t multipliers[] = {0, 1, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX - 1,
                                   INT32_MAX};
    for (int shift = -31; shift <= 30; ++shift) {
      for (int32_t mult : multipliers) {
        // Accumulators at the int32 ends (rows make them wrap), and ones that land on
        // exact ties (x.5) of the final rounding, where the output is in range.
        std::vector<int32_t> accs = {INT32_MIN, INT32_MIN + 4, -(1 << 30), 0, 1 << 30,
                                     INT32_MAX - 3, INT32_MAX};
        const double real = mult * std::ldexp(1.0, shift - 31);
        for (double target : {-100.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 60.5}) {
          if (real == 0.0) break;
          const double acc = std::nearbyint(target / real);
          if (acc > INT32_MIN && acc < INT32_MAX) accs.push_back(static_cast<int32_t>(acc));
        }
        for (int32_t acc : accs) {
          rq.multiplier.push_back(mult);
          rq.shift.push_back(shift);
          rq.bias.push_back(acc);
        }
      }
    }
    if (!check_every_output_range(isa, &rq)) return;
  }
  if (!any) skip("no ARM path under test");
}

TEST(arm_fused_fp32_output_stage_boundaries) {
  bool any = false;
  for (Isa isa : isas_under_test()) {
    if (!is_arm_path(isa)) continue;
    any = true;
    Requantization rq;
    rq.mode = RequantMode::kFp32;
    const float scales[] = {1.0f, 0.5f, 0.25f, 1.0f / 3.0f, 0.1f, std::ldexp(1.0f, -20),
                            1e-9f, 3.0f, std::nextafter(0.5f, 1.0f), std::nextafter(0.5f, 0.0f)};
    for (float s : scales) {
      // 2^24 + 1 is the first int32 that float cannot hold: SCVTF must round it as the
      // scalar conversion does.
      std::vector<int32_t> accs = {INT32_MIN, INT32_MIN + 4, -16777217, 16777217, INT32_MAX - 3,
                                   INT32_MAX};
      for (double target : {-128.5, -127.5, -100.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 126.5, 127.5,
                            254.5, 255.5}) {
        const double acc = std::nearbyint(target / s);
        if (acc > INT32_MIN && acc < INT32_MAX) accs.push_back(static_cast<int32_t>(acc));
      }
      for (int32_t acc : accs) {
        rq.scale.push_back(s);
        rq.bias.push_back(acc);
      }
    }
    if (!check_every_output_range(isa, &rq)) return;
  }
  if (!any) skip("no ARM path under test");
}

TEST(arm_hardswish_steps_matches_scalar) {
  // Around both bends (x * k = -1/2 and +1/2, where t leaves [0, 1]), at zero,
  // far out and at random; compared as bits (signed zeros included).
  const float ks[] = {1e-3f / 6.0f, 0.025f, 1.0f / 6.0f, 0.3f, 1.0f / 3.0f, 2.0f / 6.0f};
  std::uniform_real_distribution<float> any(-200.0f, 200.0f);
  for (float k : ks) {
    std::vector<float> x = {0.0f, -0.0f, 1.0f, -1.0f, 1e30f, -1e30f, 3e38f, -3e38f,
                            std::ldexp(1.0f, -140), -std::ldexp(1.0f, -140)};
    for (float bend : {0.5f / k, -0.5f / k, 1.5f / k, -1.5f / k}) {
      float v = bend;
      for (int i = 0; i < 8; ++i) v = std::nextafter(v, -INFINITY);
      for (int i = 0; i < 17; ++i, v = std::nextafter(v, INFINITY)) x.push_back(v);
    }
    for (int i = 0; i < 256; ++i) x.push_back(any(rng()));
    x.resize((x.size() + 3) / 4 * 4, 0.0f);
    for (size_t i = 0; i < x.size(); i += 4) {
      float got[4];
      vst1q_f32(got, arm::hardswish_steps(vld1q_f32(&x[i]), k));
      for (size_t j = 0; j < 4; ++j) {
        const float expect = hardswish_steps(x[i + j], k);
        uint32_t gb, eb;
        std::memcpy(&gb, &got[j], 4);
        std::memcpy(&eb, &expect, 4);
        if (gb != eb) {
          record_failure(__FILE__, __LINE__,
                         "x " + std::to_string(x[i + j]) + " k " + std::to_string(k) + ": got " +
                             std::to_string(got[j]) + ", expected " + std::to_string(expect));
          return;
        }
      }
    }
  }
}

TEST(arm_fused_fp32_hardswish_output_stage_boundaries) {
  bool any = false;
  for (Isa isa : isas_under_test()) {
    if (!is_arm_path(isa)) continue;
    any = true;
    // y_scale: bends at |x| = 3 / y_scale steps, from 1.5 to 3000.
    for (float y_scale : {2.0f, 1.0f, 0.37f, 0.15f, 1e-3f}) {
      Requantization rq;
      rq.mode = RequantMode::kFp32;
      rq.hardswish = true;
      rq.hardswish_k = y_scale / 6.0f;
      size_t differing = 0;
      // Every accumulator within 6 steps of each bend and of zero (rows add
      // -128..127 around it), plus the int32 ends.
      for (float s : {1.0f, 0.25f, 1.0f / 3.0f, 0.1f, 1.0f / 64.0f, 2.0f}) {
        std::vector<int32_t> accs = {INT32_MIN, INT32_MIN + 4, INT32_MAX - 3, INT32_MAX};
        for (double center : {-3.0 / y_scale, 0.0, 3.0 / y_scale}) {
          const double first = std::floor((center - 6.0) / s), last = std::ceil((center + 6.0) / s);
          for (double a = first; a <= last; a += std::max(1.0, (last - first) / 400.0)) {
            accs.push_back(static_cast<int32_t>(a));
          }
        }
        for (int32_t acc : accs) {
          rq.scale.push_back(s);
          rq.bias.push_back(acc);
        }
      }
      if (!check_every_output_range(isa, &rq)) return;
      // The same accumulators without HardSwish must give other outputs somewhere.
      set_output_range(&rq, false, 0);
      Requantization plain = rq;
      plain.hardswish = false;
      for (size_t j = 0; j < rq.bias.size(); ++j) {
        if (requantize_one(rq, 0, j) != requantize_one(plain, 0, j)) ++differing;
      }
      CHECK(differing > rq.bias.size() / 10);
    }
  }
  if (!any) skip("no ARM path under test");
}

#endif  // __aarch64__
