// Elementwise kernels: every SIMD path against ref. Exact ops (Add, Sub, Mul,
// Div, Max, Min, PRelu, Relu, LeakyRelu, Clip, HardSigmoid, HardSwish, Neg,
// Abs, Sqrt, Reciprocal, Floor, Ceil, Round, the channel affine map, the 8-bit
// table) bit for bit, over lengths 0..70 (every tail), broadcast plans (same
// shape, scalar either side, per-channel NCHW and NHWC, general) and special
// values (NaN, +-inf, +-0, denormals); Exp, Sigmoid and Tanh within the stated
// tolerance; thread splits that must not change results; Cast's rules.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "harness.h"
#include "lowbit/cpu.h"
#include "lowbit/elementwise.h"
#include "lowbit/thread_pool.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

ThreadPool& pool3() {
  static ThreadPool pool(3);
  return pool;
}

// Bit-identical, except that any NaN equals any NaN.
bool same(float a, float b) {
  if (a != a && b != b) return true;
  return std::memcmp(&a, &b, sizeof(float)) == 0;
}

// |a - b| <= rtol * |b| + atol (NaN matches NaN, inf matches the same inf).
bool close(float a, float b, float rtol, float atol) {
  if (a != a || b != b) return a != a && b != b;
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= rtol * std::fabs(b) + atol;
}

std::vector<float> random_floats(size_t n, float lo, float hi, bool specials) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  const float special[] = {kNaN, kInf, -kInf, 0.0f, -0.0f, 1e-40f, -1e-40f, 1.0f, -1.0f, 3.0f, -3.0f};
  for (auto& x : v) {
    x = u(rng());
    if (specials && rng()() % 8 == 0) x = special[rng()() % (sizeof(special) / sizeof(special[0]))];
  }
  return v;
}

std::vector<const ElementwisePath*> paths() {
  std::vector<const ElementwisePath*> out;
  for (Isa isa : isas_under_test()) {
    const ElementwisePath& p = elementwise_path(isa);
    if (p.isa != Isa::kRef) out.push_back(&p);
  }
  return out;
}

const BinaryOp kFloatOps[] = {BinaryOp::kAdd, BinaryOp::kSub, BinaryOp::kMul, BinaryOp::kDiv,
                              BinaryOp::kPow, BinaryOp::kMax, BinaryOp::kMin, BinaryOp::kPRelu};

BroadcastPlan plan_of(std::vector<size_t> dims, std::vector<size_t> as, std::vector<size_t> bs) {
  BroadcastPlan p;
  p.rank = dims.size();
  for (size_t d = 0; d < dims.size(); ++d) {
    p.dims[d] = dims[d];
    p.a_stride[d] = as[d];
    p.b_stride[d] = bs[d];
  }
  return p;
}

size_t extent(const BroadcastPlan& p, bool a) {
  size_t e = 1;
  for (size_t d = 0; d < p.rank; ++d) e += (p.dims[d] - 1) * (a ? p.a_stride[d] : p.b_stride[d]);
  return e;
}

}  // namespace

TEST(elementwise_binary_rows_match_ref) {
  const auto ps = paths();
  if (ps.empty()) return skip("no SIMD elementwise path on this CPU");
  for (const ElementwisePath* path : ps) {
    for (BinaryOp op : kFloatOps) {
      for (size_t n = 0; n <= 70; ++n) {
        for (int strides = 0; strides < 4; ++strides) {
          const size_t sa = strides & 1 ? 0 : 1, sb = strides & 2 ? 0 : 1;
          for (int clamp = 0; clamp < 2; ++clamp) {
            const float lo = clamp ? -2.5f : -kInf, hi = clamp ? 6.0f : kInf;
            const auto a = random_floats(n + 1, -8.0f, 8.0f, true);
            const auto b = random_floats(n + 1, -8.0f, 8.0f, true);
            std::vector<float> want(n + 1, 7.0f), got(n + 1, 7.0f);
            ref::binary_f32_row(op, a.data(), sa, b.data(), sb, want.data(), n, lo, hi);
            path->binary_f32(op, a.data(), sa, 0, b.data(), sb, 0, got.data(), 1, n, lo, hi);
            for (size_t i = 0; i <= n; ++i) {
              if (!same(got[i], want[i])) {
                record_failure(__FILE__, __LINE__,
                               std::string(isa_name(path->isa)) + " op " + std::to_string(static_cast<int>(op)) +
                                   " n=" + std::to_string(n) + " sa=" + std::to_string(sa) + " sb=" +
                                   std::to_string(sb) + " i=" + std::to_string(i) + ": " + std::to_string(got[i]) +
                                   " vs " + std::to_string(want[i]));
                return;
              }
            }
          }
        }
      }
    }
  }
}

TEST(elementwise_binary_broadcast_plans_match_ref_and_threads) {
  // (dims, a strides, b strides): same shape, scalar b, scalar a, NCHW + [C,1,1],
  // NHWC + [C], outer product, a 4-D general broadcast, rank 0.
  const std::vector<BroadcastPlan> plans = {
      plan_of({3, 5, 7}, {35, 7, 1}, {35, 7, 1}),
      plan_of({1000}, {1}, {0}),
      plan_of({77}, {0}, {1}),
      plan_of({2, 16, 49}, {16 * 49, 49, 1}, {0, 1, 0}),
      plan_of({98, 19}, {19, 1}, {0, 1}),
      plan_of({13, 11}, {1, 0}, {0, 1}),
      plan_of({2, 3, 4, 5}, {0, 20, 5, 1}, {15, 5, 0, 1}),
      plan_of({}, {}, {}),
      plan_of({3, 200000}, {200000, 1}, {0, 1}),  // large: split over threads, rows cut
      plan_of({2, 3000, 24}, {24 * 3000, 24, 1}, {0, 0, 1}),  // NHWC per channel: grouped short rows
      plan_of({5, 700, 3}, {0, 3, 1}, {2100, 0, 1}),        // grouped rows, both inputs strided
  };
  std::vector<Isa> isas = isas_under_test();
  for (const BroadcastPlan& plan : plans) {
    const auto a = random_floats(extent(plan, true), -4.0f, 4.0f, false);
    const auto b = random_floats(extent(plan, false), -4.0f, 4.0f, false);
    std::vector<int32_t> ia(a.size()), ib(b.size());
    for (size_t i = 0; i < a.size(); ++i) ia[i] = static_cast<int32_t>(rng()());
    for (size_t i = 0; i < b.size(); ++i) ib[i] = static_cast<int32_t>(rng()()) >> (i % 31);
    const size_t count = plan.count();
    // ref, element by element from the plan's definition.
    std::vector<float> want(count);
    std::vector<int32_t> iwant(count);
    for (size_t o = 0; o < count; ++o) {
      size_t rem = o, ao = 0, bo = 0;
      for (size_t d = plan.rank; d-- > 0;) {
        const size_t i = rem % plan.dims[d];
        rem /= plan.dims[d];
        ao += i * plan.a_stride[d];
        bo += i * plan.b_stride[d];
      }
      want[o] = clamp_one(binary_one(BinaryOp::kMul, a[ao], b[bo]), -1.0f, 1.5f);
      iwant[o] = binary_one_s32(BinaryOp::kSub, ia[ao], ib[bo]);
    }
    for (Isa isa : isas) {
      for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
        std::vector<float> got(count, kNaN);
        binary_f32(elementwise_path(isa), BinaryOp::kMul, plan, a.data(), b.data(), got.data(), -1.0f, 1.5f, pool);
        std::vector<int32_t> igot(count, 0);
        binary_s32(elementwise_path(isa), BinaryOp::kSub, plan, ia.data(), ib.data(), igot.data(), pool);
        for (size_t o = 0; o < count; ++o) {
          if (!same(got[o], want[o]) || igot[o] != iwant[o]) {
            record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " rank " + std::to_string(plan.rank) +
                                                   " element " + std::to_string(o));
            return;
          }
        }
      }
    }
  }
}

TEST(elementwise_int32_ops_wrap_and_never_trap) {
  const int32_t kMin = std::numeric_limits<int32_t>::min(), kMax = std::numeric_limits<int32_t>::max();
  CHECK_EQ(binary_one_s32(BinaryOp::kAdd, kMax, 1), kMin);
  CHECK_EQ(binary_one_s32(BinaryOp::kSub, kMin, 1), kMax);
  CHECK_EQ(binary_one_s32(BinaryOp::kMul, 65536, 65536), 0);
  CHECK_EQ(binary_one_s32(BinaryOp::kDiv, 7, -2), -3);
  CHECK_EQ(binary_one_s32(BinaryOp::kDiv, -7, 2), -3);
  CHECK_EQ(binary_one_s32(BinaryOp::kDiv, 5, 0), 0);
  CHECK_EQ(binary_one_s32(BinaryOp::kDiv, kMin, -1), kMin);
  CHECK_EQ(binary_one_s32(BinaryOp::kPow, 3, 4), 81);
  CHECK_EQ(binary_one_s32(BinaryOp::kPow, -2, 3), -8);
  CHECK_EQ(binary_one_s32(BinaryOp::kPow, 2, 31), kMin);
  CHECK_EQ(binary_one_s32(BinaryOp::kPow, 2, -1), 0);
  CHECK_EQ(binary_one_s32(BinaryOp::kPow, -1, -3), -1);
  CHECK_EQ(binary_one_s32(BinaryOp::kPow, 0, -1), 0);
  CHECK_EQ(binary_one_s32(BinaryOp::kMax, -5, 3), 3);
  CHECK_EQ(binary_one_s32(BinaryOp::kMin, -5, 3), -5);
}

TEST(elementwise_float_special_values) {
  CHECK(binary_one(BinaryOp::kMax, kNaN, 1.0f) != binary_one(BinaryOp::kMax, kNaN, 1.0f));
  CHECK(binary_one(BinaryOp::kMax, 1.0f, kNaN) != binary_one(BinaryOp::kMax, 1.0f, kNaN));
  CHECK(binary_one(BinaryOp::kMin, kNaN, 1.0f) != binary_one(BinaryOp::kMin, kNaN, 1.0f));
  CHECK(binary_one(BinaryOp::kPRelu, -2.0f, 0.25f) == -0.5f);
  UnaryParams clip{UnaryOp::kClip, 2.0f, 1.0f};  // min > max: everything becomes max
  CHECK(unary_one(clip, 0.0f) == 1.0f);
  CHECK(unary_one(clip, 5.0f) == 1.0f);
  UnaryParams relu{UnaryOp::kRelu, 0, 0};
  CHECK(unary_one(relu, kNaN) != unary_one(relu, kNaN));
  UnaryParams round{UnaryOp::kRound, 0, 0};
  CHECK(unary_one(round, 2.5f) == 2.0f);
  CHECK(unary_one(round, -1.5f) == -2.0f);
}

TEST(elementwise_unary_matches_ref) {
  const auto ps = paths();
  if (ps.empty()) return skip("no SIMD elementwise path on this CPU");
  struct Spec {
    UnaryParams p;
    float lo, hi;
    bool exact;
  };
  const Spec specs[] = {
      {{UnaryOp::kRelu, 0, 0}, -5, 5, true},
      {{UnaryOp::kLeakyRelu, 0.1f, 0}, -5, 5, true},
      {{UnaryOp::kClip, -1.0f, 6.0f}, -10, 10, true},
      {{UnaryOp::kClip, 2.0f, 1.0f}, -10, 10, true},
      {{UnaryOp::kHardSigmoid, 0.2f, 0.5f}, -6, 6, true},
      {{UnaryOp::kHardSwish, 0, 0}, -6, 6, true},
      {{UnaryOp::kNeg, 0, 0}, -5, 5, true},
      {{UnaryOp::kAbs, 0, 0}, -5, 5, true},
      {{UnaryOp::kSqrt, 0, 0}, -1, 100, true},
      {{UnaryOp::kReciprocal, 0, 0}, -5, 5, true},
      {{UnaryOp::kFloor, 0, 0}, -5, 5, true},
      {{UnaryOp::kCeil, 0, 0}, -5, 5, true},
      {{UnaryOp::kRound, 0, 0}, -5, 5, true},
      {{UnaryOp::kLog, 0, 0}, 0, 50, true},   // C library on every path
      {{UnaryOp::kErf, 0, 0}, -4, 4, true},   // C library on every path
      {{UnaryOp::kExp, 0, 0}, -110, 100, false},
      {{UnaryOp::kExp, 0, 0}, -2, 2, false},
      {{UnaryOp::kSigmoid, 0, 0}, -110, 110, false},
      {{UnaryOp::kSigmoid, 0, 0}, -4, 4, false},
      {{UnaryOp::kTanh, 0, 0}, -12, 12, false},
      {{UnaryOp::kTanh, 0, 0}, -0.01f, 0.01f, false},
  };
  for (const ElementwisePath* path : ps) {
    for (const Spec& s : specs) {
      for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{15}, size_t{16}, size_t{17}, size_t{63}, size_t{4099}}) {
        const auto x = random_floats(n, s.lo, s.hi, true);
        std::vector<float> want(n), got(n);
        ref::unary_f32(s.p, x.data(), want.data(), n);
        path->unary_f32(s.p, x.data(), got.data(), n);
        for (size_t i = 0; i < n; ++i) {
          // 4e-7 relative: 3-4 ulp; 1e-37 absolute: results that underflow.
          const bool ok = s.exact ? same(got[i], want[i]) : close(got[i], want[i], 4e-7f, 1e-37f);
          if (!ok) {
            record_failure(__FILE__, __LINE__,
                           std::string(isa_name(path->isa)) + " unary op " + std::to_string(static_cast<int>(s.p.op)) +
                               " x=" + std::to_string(x[i]) + ": " + std::to_string(got[i]) + " vs " +
                               std::to_string(want[i]));
            break;
          }
        }
      }
    }
  }
}

TEST(elementwise_lut8_matches_ref) {
  const auto ps = paths();
  if (ps.empty()) return skip("no SIMD elementwise path on this CPU");
  for (const ElementwisePath* path : ps) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{31}, size_t{32}, size_t{63}, size_t{64},
                     size_t{65}, size_t{300}, size_t{1000}}) {
      std::vector<uint8_t> table(256), x(n), want(n), got(n);
      for (auto& t : table) t = static_cast<uint8_t>(rng()());
      for (size_t i = 0; i < n; ++i) x[i] = static_cast<uint8_t>(i < 256 ? i : rng()());
      ref::lut8(table.data(), x.data(), want.data(), n);
      path->lut8(table.data(), x.data(), got.data(), n);
      CHECK(want == got);
    }
  }
#if LOWBIT_HAVE_AVX512VNNI
  // Both AVX-512 lookups, whichever one this CPU's path takes.
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{256}, size_t{1000}}) {
      std::vector<uint8_t> table(256), x(n), want(n), got(n);
      for (auto& t : table) t = static_cast<uint8_t>(rng()());
      for (size_t i = 0; i < n; ++i) x[i] = static_cast<uint8_t>(i < 256 ? i : rng()());
      ref::lut8(table.data(), x.data(), want.data(), n);
      avx512::lut8_bw(table.data(), x.data(), got.data(), n);
      CHECK(want == got);
      if (f.avx512vbmi) {
        std::fill(got.begin(), got.end(), 0);
        avx512::lut8_vbmi(table.data(), x.data(), got.data(), n);
        CHECK(want == got);
      }
    }
  }
#endif
  // Large: thread split.
  std::vector<uint8_t> table(256), x(1 << 20), want(x.size()), got(x.size());
  for (size_t i = 0; i < 256; ++i) table[i] = static_cast<uint8_t>(255 - i);
  for (auto& v : x) v = static_cast<uint8_t>(rng()());
  for (Isa isa : isas_under_test()) {
    lut8(elementwise_path(isa), table.data(), x.data(), got.data(), x.size(), &pool3());
    ref::lut8(table.data(), x.data(), want.data(), x.size());
    CHECK(want == got);
  }
}

TEST(elementwise_channel_affine_matches_ref) {
  for (Isa isa : isas_under_test()) {
    const ElementwisePath& path = elementwise_path(isa);
    for (size_t channels : {size_t{1}, size_t{3}, size_t{8}, size_t{17}, size_t{64}}) {
      for (size_t inner : {size_t{1}, size_t{5}, size_t{49}}) {
        for (int clamp = 0; clamp < 2; ++clamp) {
          const size_t outer = 3, count = outer * channels * inner;
          const auto x = random_floats(count, -5, 5, true);
          const auto scale = random_floats(channels, -2, 2, false);
          const auto bias = random_floats(channels, -2, 2, false);
          const float lo = clamp ? 0.0f : -kInf, hi = clamp ? 6.0f : kInf;
          std::vector<float> got(count);
          channel_affine_f32(path, x.data(), outer, channels, inner, scale.data(), bias.data(), got.data(), lo, hi,
                             &pool3());
          for (size_t i = 0; i < count; ++i) {
            const size_t c = (i / inner) % channels;
            const float t = x[i] * scale[c];
            if (!same(got[i], clamp_one(t + bias[c], lo, hi))) {
              record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " affine element " + std::to_string(i));
              return;
            }
          }
        }
      }
    }
  }
}

TEST(elementwise_cast_rules) {
  const float f[] = {2.7f, -2.7f, 300.0f, -300.0f, kNaN, kInf, -kInf, 127.9f, -128.9f, 3e9f, -3e9f, 0.5f};
  const size_t n = sizeof(f) / sizeof(f[0]);
  int8_t s8[n];
  uint8_t u8[n];
  int32_t s32[n];
  cast(ElementType::kFloat32, f, ElementType::kInt8, s8, n);
  cast(ElementType::kFloat32, f, ElementType::kUint8, u8, n);
  cast(ElementType::kFloat32, f, ElementType::kInt32, s32, n);
  const int8_t want_s8[] = {2, -2, 127, -128, 0, 127, -128, 127, -128, 127, -128, 0};
  const uint8_t want_u8[] = {2, 0, 255, 0, 0, 255, 0, 127, 0, 255, 0, 0};
  const int32_t want_s32[] = {2, -2, 300, -300, 0, 2147483647, -2147483647 - 1, 127, -128, 2147483647,
                              -2147483647 - 1, 0};
  for (size_t i = 0; i < n; ++i) {
    CHECK_EQ(static_cast<int>(s8[i]), static_cast<int>(want_s8[i]));
    CHECK_EQ(static_cast<int>(u8[i]), static_cast<int>(want_u8[i]));
    CHECK_EQ(s32[i], want_s32[i]);
  }
  const int32_t wide[] = {200, -56, 256, -1, 70000};
  int8_t ws8[5];
  uint8_t wu8[5];
  cast(ElementType::kInt32, wide, ElementType::kInt8, ws8, 5);
  cast(ElementType::kInt32, wide, ElementType::kUint8, wu8, 5);
  const int8_t want_ws8[] = {-56, -56, 0, -1, 112};
  const uint8_t want_wu8[] = {200, 200, 0, 255, 112};
  for (size_t i = 0; i < 5; ++i) {
    CHECK_EQ(static_cast<int>(ws8[i]), static_cast<int>(want_ws8[i]));
    CHECK_EQ(static_cast<int>(wu8[i]), static_cast<int>(want_wu8[i]));
  }
  const int8_t neg[] = {-1, -128};
  uint8_t nu8[2];
  float nf[2];
  cast(ElementType::kInt8, neg, ElementType::kUint8, nu8, 2);
  cast(ElementType::kInt8, neg, ElementType::kFloat32, nf, 2);
  CHECK_EQ(static_cast<int>(nu8[0]), 255);
  CHECK_EQ(static_cast<int>(nu8[1]), 128);
  CHECK(nf[0] == -1.0f && nf[1] == -128.0f);
  const int32_t big = 16777217;
  float bf;
  cast(ElementType::kInt32, &big, ElementType::kFloat32, &bf, 1);
  CHECK(bf == 16777216.0f);
}

TEST(elementwise_8bit_arithmetic_wraps) {
  BroadcastPlan plan = plan_of({2, 3}, {3, 1}, {0, 1});
  const int8_t a[] = {100, -100, 7, -128, 127, 0};
  const int8_t b[] = {100, 3, 0};
  int8_t out[6];
  binary_8bit(BinaryOp::kAdd, plan, a, b, out, true, nullptr);
  const int8_t want_add[] = {-56, -97, 7, -28, -126, 0};
  for (int i = 0; i < 6; ++i) CHECK_EQ(static_cast<int>(out[i]), static_cast<int>(want_add[i]));
  binary_8bit(BinaryOp::kDiv, plan, a, b, out, true, nullptr);
  const int8_t want_div[] = {1, -33, 0, -1, 42, 0};
  for (int i = 0; i < 6; ++i) CHECK_EQ(static_cast<int>(out[i]), static_cast<int>(want_div[i]));
  const uint8_t ua[] = {250, 3, 9, 0, 255, 128};
  const uint8_t ub[] = {10, 5, 2};
  uint8_t uout[6];
  binary_8bit(BinaryOp::kSub, plan, ua, ub, uout, false, nullptr);
  const uint8_t want_sub[] = {240, 254, 7, 246, 250, 126};
  for (int i = 0; i < 6; ++i) CHECK_EQ(static_cast<int>(uout[i]), static_cast<int>(want_sub[i]));
  binary_8bit(BinaryOp::kMul, plan, ua, ub, uout, false, nullptr);
  const uint8_t want_mul[] = {196, 15, 18, 0, 251, 0};
  for (int i = 0; i < 6; ++i) CHECK_EQ(static_cast<int>(uout[i]), static_cast<int>(want_mul[i]));
}
