// Quantized Add / Mul / GlobalAveragePool: every path bit-identical to ref on
// random data over the broadcast shapes the runner plans (same shape, scalar
// either side, NHWC per-channel, NCHW per-channel) and edge sizes, uint8 and
// int8, zero points at the extremes, with and without a clamp; ref within one
// step of the ONNX reference (dequantize, op in float, quantize by division).
// Requantize through HardSwish: every path bit-identical to ref over channel
// counts 1..200, accumulators up to the int32 limits, scales 1e-6..10 and at
// their limit, bias none / one / per channel, narrowed ranges; ref is
// unary_one(kHardSwish) then the quantization, within one step of float64.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "harness.h"
#include "lowbit/qelementwise.h"
#include "lowbit/thread_pool.h"

namespace {

using lowbit::BroadcastPlan;
using lowbit::QBinaryOp;

std::vector<uint8_t> random_bytes(size_t n) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<uint8_t> v(n);
  for (auto& x : v) x = static_cast<uint8_t>(byte(lowbit_test::rng()));
  return v;
}

// A plan over explicit dims with element strides (0 on broadcast axes).
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
  size_t last = 0;
  for (size_t d = 0; d < p.rank; ++d) last += (p.dims[d] - 1) * (a ? p.a_stride[d] : p.b_stride[d]);
  return last + 1;
}

struct Shape {
  const char* what;
  BroadcastPlan plan;
};

std::vector<Shape> shapes() {
  std::vector<Shape> s;
  for (size_t n : {1, 7, 8, 15, 16, 17, 31, 33, 64, 100, 257}) {
    s.push_back({"same", plan_of({n}, {1}, {1})});
    s.push_back({"b scalar", plan_of({n}, {1}, {0})});
    s.push_back({"a scalar", plan_of({n}, {0}, {1})});
  }
  // NHWC per-channel: [N, H*W, C] x [N, 1, C] (short and long channel rows).
  for (size_t c : {1, 3, 16, 17, 24, 63, 64, 72, 120}) {
    for (size_t hw : {1, 2, 5, 36}) {
      s.push_back({"nhwc channel", plan_of({2, hw, c}, {hw * c, c, 1}, {c, 0, 1})});
      s.push_back({"nhwc channel, a broadcast", plan_of({2, hw, c}, {c, 0, 1}, {hw * c, c, 1})});
    }
  }
  // NCHW per-channel: [N, C, H*W] x [1, C, 1].
  s.push_back({"nchw channel", plan_of({2, 5, 33}, {165, 33, 1}, {0, 1, 0})});
  // A plan lib/ops never makes (strided innermost): the driver's scalar fallback.
  s.push_back({"strided", plan_of({4, 9}, {1, 4}, {9, 1})});
  return s;
}

struct Quant {
  bool is_signed;
  int32_t zp;
  float scale;
};

std::vector<Quant> quants(bool is_signed) {
  if (is_signed) return {{true, -128, 0.05f}, {true, 127, 0.013f}, {true, 0, 0.2f}, {true, -3, 1.0f}};
  return {{false, 0, 0.05f}, {false, 255, 0.013f}, {false, 128, 0.2f}, {false, 3, 1.0f}};
}

}  // namespace

TEST(qbinary_every_path_matches_ref) {
  auto& rng = lowbit_test::rng();
  std::uniform_int_distribution<int> pick(0, 3);
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    const auto& path = lowbit::qelementwise_path(isa);
    for (const Shape& shape : shapes()) {
      for (QBinaryOp op : {QBinaryOp::kAdd, QBinaryOp::kMul}) {
        for (int types = 0; types < 8; ++types) {
          const Quant qa = quants(types & 1)[pick(rng)], qb = quants(types & 2)[pick(rng)];
          const Quant qy = quants(types & 4)[pick(rng)];
          const int32_t tmin = qy.is_signed ? -128 : 0, tmax = qy.is_signed ? 127 : 255;
          for (bool clamp : {false, true}) {
            const int32_t qlo = clamp ? qy.zp : tmin, qhi = clamp ? std::min(tmax, qy.zp + 40) : tmax;
            const auto p = lowbit::make_qbinary_params(op, qa.scale, qa.zp, qa.is_signed, qb.scale, qb.zp, qb.is_signed,
                                                       qy.scale, qy.zp, qy.is_signed, qlo, qhi);
            const auto a = random_bytes(extent(shape.plan, true)), b = random_bytes(extent(shape.plan, false));
            const size_t count = shape.plan.count();
            std::vector<uint8_t> want(count + 1, 0xA5), got(count + 1, 0xA5);
            lowbit::qbinary(lowbit::ref::kQElementwisePath, p, shape.plan, a.data(), b.data(), want.data(), nullptr);
            lowbit::qbinary(path, p, shape.plan, a.data(), b.data(), got.data(), &lowbit::default_thread_pool());
            CHECK(want == got);
            if (want != got) {
              std::printf("  %s, %s, %s, count %zu\n", lowbit::isa_name(isa), shape.what, op == QBinaryOp::kAdd ? "add" : "mul", count);
              return;
            }
          }
        }
      }
    }
  }
}

TEST(qbinary_row_kernels_match_ref_at_every_length) {
  // Both row kernels straight, every length 0..100 (each tail), bytes past n untouched.
  auto& rng = lowbit_test::rng();
  std::uniform_int_distribution<int> pick(0, 3);
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    const auto& path = lowbit::qelementwise_path(isa);
    for (size_t n = 0; n <= 100; ++n) {
      for (QBinaryOp op : {QBinaryOp::kAdd, QBinaryOp::kMul}) {
        for (int types = 0; types < 8; ++types) {
          const Quant qa = quants(types & 1)[pick(rng)], qb = quants(types & 2)[pick(rng)], qy = quants(types & 4)[pick(rng)];
          const auto p = lowbit::make_qbinary_params(op, qa.scale, qa.zp, qa.is_signed, qb.scale, qb.zp, qb.is_signed,
                                                     qy.scale, qy.zp, qy.is_signed, qy.is_signed ? -100 : 7, qy.is_signed ? 127 : 250);
          const auto a = random_bytes(n), b = random_bytes(n);
          std::vector<float> terms(n + 1);
          for (size_t i = 0; i < n; ++i) terms[i] = lowbit::qbinary_b_term(p, lowbit::qload(b.data(), i, qb.is_signed));
          for (size_t st : {0, 1}) {
            std::vector<uint8_t> want(n + 8, 0xA5), got(n + 8, 0xA5);
            lowbit::ref::qbinary_row_prepared(p, a.data(), terms.data(), st, want.data(), n);
            path.binary_row_prepared(p, a.data(), terms.data(), st, got.data(), n);
            CHECK(want == got);
          }
          std::vector<uint8_t> want(n + 8, 0xA5), got(n + 8, 0xA5);
          lowbit::ref::qbinary_row(p, a.data(), b.data(), want.data(), n);
          path.binary_row(p, a.data(), b.data(), got.data(), n);
          CHECK(want == got);
          RETURN_IF_FAILED();
        }
      }
    }
  }
}

TEST(qbinary_ref_is_the_stated_formula_and_near_onnx) {
  // Element by element from the header's formula, and against the ONNX
  // reference: dequantize, add/multiply in float32, quantize by division.
  auto& rng = lowbit_test::rng();
  std::uniform_int_distribution<int> byte(0, 255);
  int differ = 0;
  for (QBinaryOp op : {QBinaryOp::kAdd, QBinaryOp::kMul}) {
    for (const Quant qa : quants(false)) {
      for (const Quant qy : quants(true)) {
        const Quant qb{true, -7, 0.031f};
        const auto p = lowbit::make_qbinary_params(op, qa.scale, qa.zp, false, qb.scale, qb.zp, true, qy.scale, qy.zp,
                                                   true, -128, 127);
        for (int k = 0; k < 2000; ++k) {
          const uint8_t a = static_cast<uint8_t>(byte(rng));
          const int8_t b = static_cast<int8_t>(byte(rng) - 128);
          int8_t y;
          lowbit::ref::qbinary_row(p, &a, &b, &y, 1);
          // The formula, written out.
          const float fa = op == QBinaryOp::kAdd ? qa.scale / qy.scale : (qa.scale * qb.scale) / qy.scale;
          const float fb = qb.scale / qy.scale;
          const int32_t da = a - qa.zp, db = b - qb.zp;
          float t = op == QBinaryOp::kAdd ? fa * static_cast<float>(da) + fb * static_cast<float>(db)
                                          : fa * static_cast<float>(da * db);
          t = std::fmin(std::fmax(t, static_cast<float>(-128 - qy.zp)), static_cast<float>(127 - qy.zp));
          CHECK_EQ(static_cast<int>(y), static_cast<int>(std::nearbyint(t)) + qy.zp);
          // ONNX.
          const float ra = qa.scale * static_cast<float>(da), rb = qb.scale * static_cast<float>(db);
          const float r = op == QBinaryOp::kAdd ? ra + rb : ra * rb;
          const float v = std::fmin(std::fmax(r / qy.scale, static_cast<float>(-128 - qy.zp)), static_cast<float>(127 - qy.zp));
          const int onnx = static_cast<int>(std::nearbyint(v)) + qy.zp;
          CHECK(std::abs(onnx - y) <= 1);
          differ += onnx != y;
        }
      }
    }
  }
  std::printf("  %d of 64000 results one step from the ONNX reference\n", differ);
}

TEST(qbinary_saturates_and_clamps) {
  // 200 + 100 at unit scales saturates to 255; a clamp [zy, zy + 40] is applied after the op.
  const auto p = lowbit::make_qbinary_params(QBinaryOp::kAdd, 1.0f, 0, false, 1.0f, 0, false, 1.0f, 0, false, 0, 255);
  const uint8_t a[2] = {200, 3}, b[2] = {100, 4};
  uint8_t y[2];
  lowbit::ref::qbinary_row(p, a, b, y, 2);
  CHECK_EQ(static_cast<int>(y[0]), 255);
  CHECK_EQ(static_cast<int>(y[1]), 7);
  const auto m = lowbit::make_qbinary_params(QBinaryOp::kMul, 0.5f, 0, false, 0.5f, 0, false, 1.0f, 10, false, 10, 50);
  const uint8_t c[3] = {1, 3, 100}, d[3] = {2, 3, 100};  // 0.5, 2.25 -> round half even 2, 2500 -> clamp
  uint8_t z[3];
  lowbit::ref::qbinary_row(m, c, d, z, 3);
  CHECK_EQ(static_cast<int>(z[0]), 10);
  CHECK_EQ(static_cast<int>(z[1]), 12);
  CHECK_EQ(static_cast<int>(z[2]), 50);
}

TEST(qglobal_average_pool_every_path_matches_ref) {
  auto& rng = lowbit_test::rng();
  std::uniform_int_distribution<int> pick(0, 3);
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    const auto& path = lowbit::qelementwise_path(isa);
    for (size_t c : {1, 7, 8, 16, 31, 32, 33, 64, 65, 72, 300}) {
      for (size_t spatial : {1, 2, 7, 31, 32, 33, 64, 65, 144, 1000}) {
        for (int types = 0; types < 4; ++types) {
          const Quant qx = quants(types & 1)[pick(rng)], qy = quants(types & 2)[pick(rng)];
          const int32_t tmin = qy.is_signed ? -128 : 0, tmax = qy.is_signed ? 127 : 255;
          const auto r = lowbit::make_qpool_requant(qx.scale, qy.scale * 0.7f, qy.zp, qy.is_signed, spatial, tmin, tmax);
          const size_t n = 2;
          const auto x = random_bytes(n * c * spatial);
          for (bool nhwc : {false, true}) {
            std::vector<uint8_t> want(n * c + 1, 0x5A), got(n * c + 1, 0x5A);
            lowbit::qglobal_average_pool(lowbit::ref::kQElementwisePath, r, qx.is_signed, nhwc, n, c, spatial, qx.zp,
                                         x.data(), want.data(), nullptr);
            lowbit::qglobal_average_pool(path, r, qx.is_signed, nhwc, n, c, spatial, qx.zp, x.data(), got.data(),
                                         &lowbit::default_thread_pool());
            CHECK(want == got);
            if (want != got) {
              std::printf("  %s, c %zu, spatial %zu, %s\n", lowbit::isa_name(isa), c, spatial, nhwc ? "nhwc" : "nchw");
              return;
            }
            // The sums themselves against a plain loop (uint8 all-255 / int8 extremes are covered by random bytes).
            if (isa == lowbit_test::isas_under_test().front() && !nhwc) {
              for (size_t k = 0; k < n * c; ++k) {
                int32_t s = 0;
                for (size_t i = 0; i < spatial; ++i) s += lowbit::qload(x.data(), k * spatial + i, qx.is_signed);
                CHECK_EQ(path.sum_row(x.data() + k * spatial, qx.is_signed, spatial), s);
              }
            }
          }
        }
      }
    }
  }
}

TEST(qglobal_average_pool_extreme_sums) {
  // All-255 uint8 and all -128 int8 images: the largest sums, exact.
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    const auto& path = lowbit::qelementwise_path(isa);
    for (size_t spatial : {1, 63, 4097}) {
      for (bool is_signed : {false, true}) {
        const size_t c = 40;
        std::vector<uint8_t> x(c * spatial, is_signed ? 0x80 : 0xFF);
        std::vector<int32_t> acc(c);
        path.sum_pixels(x.data(), is_signed, spatial, c, c, acc.data());
        const int32_t want = (is_signed ? -128 : 255) * static_cast<int32_t>(spatial);
        for (int32_t v : acc) CHECK_EQ(v, want);
        CHECK_EQ(path.sum_row(x.data(), is_signed, spatial), want);
        // The average of a constant image is that constant.
        const auto r = lowbit::make_qpool_requant(0.1f, 0.1f, 0, is_signed, spatial, is_signed ? -128 : 0, is_signed ? 127 : 255);
        std::vector<uint8_t> y(c);
        lowbit::qglobal_average_pool(path, r, is_signed, true, 1, c, spatial, 0, x.data(), y.data(), nullptr);
        for (uint8_t v : y) CHECK_EQ(static_cast<int>(v), is_signed ? 0x80 : 0xFF);
      }
    }
  }
}

// ---- requantize through HardSwish ----------------------------------------

namespace {

// One random case of qrequantize_hardswish's parameters.
struct HardSwishCase {
  lowbit::QHardSwishRequant r;
  std::vector<int32_t> bias;  // empty: none
  std::vector<float> scale;
  int magnitude = 0;  // accumulators within +-2^magnitude (plus extremes)
};

float log_uniform(float lo, float hi) {
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  return static_cast<float>(std::exp(u(lowbit_test::rng())));
}

// Scales from 1e-6 to 10, yScale mostly chosen so that outputs spread over
// the type (sometimes not, so they saturate), zero points and narrowed ranges
// across the type, bias none / one / per channel.
HardSwishCase hardswish_case(size_t c, bool out_signed) {
  auto& rng = lowbit_test::rng();
  std::uniform_int_distribution<int> pick(0, 99);
  HardSwishCase k;
  const int magnitudes[] = {3, 8, 12, 16, 20, 24, 28, 31};
  k.magnitude = magnitudes[pick(rng) % 8];
  const float s0 = log_uniform(1e-6f, 10.0f);
  const size_t ns = pick(rng) < 50 ? c : 1;
  for (size_t j = 0; j < ns; ++j) k.scale.push_back(pick(rng) < 20 ? s0 : s0 * log_uniform(0.25f, 4.0f));
  const int bias_kind = pick(rng) % 3;
  const size_t nb = bias_kind == 0 ? 0 : bias_kind == 1 ? 1 : c;
  std::uniform_int_distribution<int64_t> wide(INT32_MIN, INT32_MAX);
  std::uniform_int_distribution<int32_t> near(-(1 << 12), 1 << 12);
  for (size_t j = 0; j < nb; ++j) k.bias.push_back(pick(rng) < 10 ? static_cast<int32_t>(wide(rng)) : near(rng));
  // The real output reaches about s0 * 2^magnitude; a step of 1/100 of that,
  // or an unrelated yScale.
  const double reach = static_cast<double>(s0) * std::ldexp(1.0, k.magnitude);
  float sy = pick(rng) < 80 ? static_cast<float>(reach / (20.0 + pick(rng) * 3)) : log_uniform(1e-6f, 10.0f);
  if (!(sy > 0.0f) || std::isinf(sy)) sy = 1.0f;
  const int32_t tmin = out_signed ? -128 : 0, tmax = out_signed ? 127 : 255;
  std::uniform_int_distribution<int32_t> in_type(tmin, tmax);
  const int32_t zy = pick(rng) < 20 ? (pick(rng) < 50 ? tmin : tmax) : in_type(rng);
  int32_t qlo = tmin, qhi = tmax;
  if (pick(rng) < 30) {
    qlo = in_type(rng);
    qhi = in_type(rng);
    if (qlo > qhi) std::swap(qlo, qhi);
  }
  k.r = lowbit::make_qhardswish_requant(sy, zy, out_signed, qlo, qhi);
  return k;
}

std::vector<int32_t> random_accumulators(size_t n, int magnitude) {
  auto& rng = lowbit_test::rng();
  const int64_t m = int64_t{1} << magnitude;
  std::uniform_int_distribution<int64_t> v(std::max<int64_t>(-m, INT32_MIN), std::min<int64_t>(m, INT32_MAX));
  std::uniform_int_distribution<int> pick(0, 99);
  std::vector<int32_t> acc(n);
  for (auto& a : acc) {
    const int p = pick(rng);
    a = p == 0 ? INT32_MIN : p == 1 ? INT32_MAX : p < 5 ? static_cast<int32_t>(v(rng) >> 8) : static_cast<int32_t>(v(rng));
  }
  return acc;
}

void run_hardswish(const lowbit::QElementwisePath& path, const HardSwishCase& k, const std::vector<int32_t>& acc,
                   size_t rows, size_t c, std::vector<uint8_t>* out, lowbit::ThreadPool* pool) {
  lowbit::qrequantize_hardswish(path, k.r, acc.data(), rows, c, k.bias.empty() ? nullptr : k.bias.data(),
                                k.bias.size(), k.scale.data(), k.scale.size(), out->data(), pool);
}

}  // namespace

TEST(qrequantize_hardswish_every_path_matches_ref) {
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    const auto& path = lowbit::qelementwise_path(isa);
    for (size_t c : {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 200}) {
      for (size_t rows : {1, 2, 3, 4, 5, 37, 1200}) {
        for (bool out_signed : {false, true}) {
          for (int rep = 0; rep < 3; ++rep) {
            const HardSwishCase k = hardswish_case(c, out_signed);
            const auto acc = random_accumulators(rows * c, k.magnitude);
            std::vector<uint8_t> want(rows * c + 1, 0xA5), got(rows * c + 1, 0xA5);
            run_hardswish(lowbit::ref::kQElementwisePath, k, acc, rows, c, &want, nullptr);
            run_hardswish(path, k, acc, rows, c, &got, &lowbit::default_thread_pool());
            CHECK(want == got);
            if (want != got) {
              std::printf("  %s, c %zu, rows %zu, %s, sy %g, bias %zu, scales %zu\n", lowbit::isa_name(isa), c, rows,
                          out_signed ? "int8" : "uint8", k.r.sy, k.bias.size(), k.scale.size());
              return;
            }
          }
        }
      }
    }
  }
}

TEST(qhardswish_row_kernels_match_ref_at_every_length) {
  // The row kernel straight, every length 0..100 (each tail) and each stride
  // pair, bytes past n untouched.
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    const auto& path = lowbit::qelementwise_path(isa);
    for (size_t n = 0; n <= 100; ++n) {
      for (bool out_signed : {false, true}) {
        const HardSwishCase k = hardswish_case(n + 1, out_signed);
        const auto acc = random_accumulators(n, k.magnitude);
        std::vector<int32_t> bias = random_accumulators(n + 1, 10);
        std::vector<float> scale(n + 1);
        for (auto& s : scale) s = log_uniform(k.scale[0] * 0.5f, k.scale[0] * 2.0f);
        for (size_t sb : {0, 1}) {
          for (size_t ss : {0, 1}) {
            std::vector<uint8_t> want(n + 8, 0xA5), got(n + 8, 0xA5);
            lowbit::ref::qhardswish_row(k.r, acc.data(), bias.data(), sb, scale.data(), ss, want.data(), n);
            path.hardswish_row(k.r, acc.data(), bias.data(), sb, scale.data(), ss, got.data(), n);
            CHECK(want == got);
          }
        }
        RETURN_IF_FAILED();
      }
    }
  }
}

TEST(qhardswish_extremes_every_path) {
  // int32 limits with wrapping biases, scales at the limit (fl(2^31 * s)
  // finite), a tiny yScale (q = +-inf, clamped), exact .5 ties (s = 1, sy = 2:
  // h = a for a >= 3), narrowed ranges.
  const float s_max = std::nextafter(std::numeric_limits<float>::max() / 2147483648.0f, 0.0f);
  CHECK(lowbit::qhardswish_scale_ok(s_max));
  CHECK(!lowbit::qhardswish_scale_ok(std::numeric_limits<float>::max()));
  CHECK(!lowbit::qhardswish_scale_ok(0.0f));
  std::vector<int32_t> acc;
  for (int32_t a : {INT32_MIN, INT32_MIN + 1, -16777217, -16777216, -65537, -7, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7,
                    9, 16777217, 16777219, INT32_MAX - 1, INT32_MAX}) {
    acc.push_back(a);
  }
  const size_t c = acc.size();
  const std::vector<int32_t> bias_wrap = {INT32_MAX, INT32_MIN, 1, -1};
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    const auto& path = lowbit::qelementwise_path(isa);
    for (bool out_signed : {false, true}) {
      const int32_t tmin = out_signed ? -128 : 0, tmax = out_signed ? 127 : 255;
      for (float s : {1.0f, s_max, 1e-6f, 0.5f}) {
        for (float sy : {2.0f, 0.5f, 1e-30f, std::numeric_limits<float>::denorm_min(), 1e30f}) {
          for (int32_t b : bias_wrap) {
            for (int32_t zy : {tmin, tmax, (tmin + tmax) / 2}) {
              HardSwishCase k;
              k.r = lowbit::make_qhardswish_requant(sy, zy, out_signed, b == 1 ? tmin + 3 : tmin, b == 1 ? tmax - 9 : tmax);
              k.scale = {s};
              k.bias = {b};
              std::vector<uint8_t> want(c), got(c);
              run_hardswish(lowbit::ref::kQElementwisePath, k, acc, 1, c, &want, nullptr);
              run_hardswish(path, k, acc, 1, c, &got, nullptr);
              CHECK(want == got);
            }
          }
        }
      }
    }
    RETURN_IF_FAILED();
  }
  // Ties round to even: s = 1, sy = 2, zy = 0: a = 3, 5, 7, 9 -> 1.5, 2.5, 3.5, 4.5 -> 2, 2, 4, 4.
  HardSwishCase k;
  k.r = lowbit::make_qhardswish_requant(2.0f, 0, false, 0, 255);
  k.scale = {1.0f};
  const std::vector<int32_t> ties = {3, 5, 7, 9, -3, 1000};
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    std::vector<uint8_t> y(ties.size());
    run_hardswish(lowbit::qelementwise_path(isa), k, ties, 1, ties.size(), &y, nullptr);
    CHECK(y == std::vector<uint8_t>({2, 2, 4, 4, 0, 255}));
  }
}

TEST(qhardswish_ref_is_unary_hardswish_then_quantize_and_near_float64) {
  // ref's HardSwish is unary_one(kHardSwish) bit for bit, and the whole
  // formula is within one step of a float64 recomputation.
  lowbit::UnaryParams hs;
  hs.op = lowbit::UnaryOp::kHardSwish;
  int differ = 0, total = 0;
  for (int rep = 0; rep < 200; ++rep) {
    const bool out_signed = rep % 2 == 1;
    const size_t c = 1 + rep % 40;
    const HardSwishCase k = hardswish_case(c, out_signed);
    const auto acc = random_accumulators(c * 50, k.magnitude);
    std::vector<uint8_t> y(acc.size());
    run_hardswish(lowbit::ref::kQElementwisePath, k, acc, 50, c, &y, nullptr);
    for (size_t i = 0; i < acc.size(); ++i) {
      const size_t j = i % c;
      const int32_t b = k.bias.empty() ? 0 : k.bias[k.bias.size() == 1 ? 0 : j];
      const float s = k.scale[k.scale.size() == 1 ? 0 : j];
      const int64_t wide = int64_t{acc[i]} + b;
      const int32_t a = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(wide)));
      const int got = out_signed ? static_cast<int8_t>(y[i]) : y[i];
      // The stated float32 formula, through unary_one.
      const float q = lowbit::unary_one(hs, static_cast<float>(a) * s) / k.r.sy;
      const float qc = std::fmin(std::fmax(q, k.r.lo), k.r.hi);
      CHECK_EQ(got, static_cast<int>(std::nearbyint(qc)) + k.r.zy);
      // float64, independently.
      const double v = static_cast<double>(a) * s;
      const double h = v * std::min(1.0, std::max(0.0, v / 6.0 + 0.5));
      const double q64 = std::min<double>(k.r.hi, std::max<double>(k.r.lo, h / k.r.sy));
      const int want = static_cast<int>(std::nearbyint(q64)) + k.r.zy;
      CHECK(std::abs(want - got) <= 1);
      differ += want != got;
      ++total;
    }
    RETURN_IF_FAILED();
  }
  std::printf("  %d of %d results one step from float64\n", differ, total);
}

TEST(qhardswish_no_fma_and_a_true_division_on_every_path) {
  // Random data rarely lands on a rounding boundary, so FMA contraction of
  // fl(v / 6) + 0.5 or h * fl(1 / sy) for h / sy would go unseen: these
  // inputs are searched so that each of those shortcuts changes the output,
  // and every path must still equal ref on them.
  auto& rng = lowbit_test::rng();
  std::uniform_int_distribution<int32_t> small(-400, 400);
  std::uniform_int_distribution<int32_t> target(-100, 100);
  struct Input {
    int32_t a;
    float s, sy;
  };
  std::vector<Input> fma_cases, div_cases;
  const float sixth = 1.0f / 6.0f;
  auto clamp01 = [](float t) { return t > 1.0f ? 1.0f : (t < 0.0f ? 0.0f : t); };
  auto out_of = [](float sy, float h) {
    const auto r = lowbit::make_qhardswish_requant(sy, 0, true, -128, 127);
    return lowbit::qround(h / sy, r.lo, r.hi, 0);
  };
  for (int k = 0; k < 400000 && (fma_cases.size() < 64 || div_cases.size() < 64); ++k) {
    const int32_t a = small(rng);
    if (a == 0) continue;
    if (k % 2 == 0) {
      // v in (-3, 3): t's add fused with v / 6 rounds once instead of twice.
      const float s = log_uniform(1e-3f, 0.5f), v = static_cast<float>(a) * s;
      if (!(v > -3.0f && v < 3.0f)) continue;
      const float h1 = v * clamp01(v * sixth + 0.5f), h2 = v * clamp01(std::fma(v, sixth, 0.5f));
      if (h1 == h2) continue;
      const float sy = std::fabs(h1 + h2);  // h / sy near +-0.5, on either side
      if (sy > 0.0f && out_of(sy, h1) != out_of(sy, h2)) fma_cases.push_back({a, s, sy});
    } else {
      // v >= 3 (h = v) with h / sy near a .5 tie: h * fl(1 / sy) may round across it.
      const float sy = log_uniform(1e-3f, 10.0f);
      const float s = static_cast<float>((target(rng) + 0.5) * sy / a);
      const float v = static_cast<float>(a) * s;
      if (!(v >= 3.0f) || !(s > 0.0f)) continue;
      const lowbit::QHardSwishRequant r = lowbit::make_qhardswish_requant(sy, 0, true, -128, 127);
      const int32_t recip = lowbit::qround(v * (1.0f / sy), r.lo, r.hi, 0);
      if (recip != lowbit::qhardswish_one(r, a, 0, s)) div_cases.push_back({a, s, sy});
    }
  }
  std::printf("  %zu inputs where FMA changes the output, %zu where a reciprocal does\n", fma_cases.size(),
              div_cases.size());
  CHECK(fma_cases.size() >= 16 && div_cases.size() >= 16);
  for (lowbit::Isa isa : lowbit_test::isas_under_test()) {
    const auto& path = lowbit::qelementwise_path(isa);
    for (const auto* cases : {&fma_cases, &div_cases}) {
      for (const Input& in : *cases) {
        // 17 copies: the main loop and a tail on every path; bias 0, one scale.
        HardSwishCase k;
        k.r = lowbit::make_qhardswish_requant(in.sy, 0, true, -128, 127);
        k.scale = {in.s};
        const std::vector<int32_t> acc(17, in.a);
        std::vector<uint8_t> want(17), got(17);
        run_hardswish(lowbit::ref::kQElementwisePath, k, acc, 1, 17, &want, nullptr);
        run_hardswish(path, k, acc, 1, 17, &got, nullptr);
        CHECK(want == got);
      }
    }
    RETURN_IF_FAILED();
  }
}
