// Quantized Add / Mul / GlobalAveragePool: every path bit-identical to ref on
// random data over the broadcast shapes the runner plans (same shape, scalar
// either side, NHWC per-channel, NCHW per-channel) and edge sizes, uint8 and
// int8, zero points at the extremes, with and without a clamp; ref within one
// step of the ONNX reference (dequantize, op in float, quantize by division).
#include <cmath>
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
