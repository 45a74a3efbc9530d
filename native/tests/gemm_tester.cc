#include "gemm_tester.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "harness.h"

namespace lowbit_test {
namespace {

void fill(std::vector<uint8_t>& v, bool is_signed, Data data, bool is_a) {
  auto& r = rng();
  std::uniform_int_distribution<int> byte(0, 255), coin(0, 1);
  const uint8_t lo = is_signed ? 0x80 : 0x00;   // -128 or 0
  const uint8_t hi = is_signed ? 0x7F : 0xFF;   // 127 or 255
  for (size_t i = 0; i < v.size(); ++i) {
    switch (data) {
      case Data::kRandom: v[i] = static_cast<uint8_t>(byte(r)); break;
      // A at its maximum, B at its minimum: the largest-magnitude products,
      // the case that saturates a pairwise int16 sum (255 * -128 * 2).
      case Data::kExtreme: v[i] = is_a ? hi : lo; break;
      case Data::kAlternating: v[i] = coin(r) ? hi : lo; break;
    }
  }
}

int32_t random_zero_point(bool is_signed) {
  std::uniform_int_distribution<int> d(is_signed ? -128 : 0, is_signed ? 127 : 255);
  return d(rng());
}

HardSwishCoverage g_coverage;

}  // namespace

HardSwishCoverage& hardswish_coverage() { return g_coverage; }

void reset_hardswish_coverage() { g_coverage = HardSwishCoverage(); }

void check_hardswish_coverage(const char* what) {
  const HardSwishCoverage& c = g_coverage;
  // Some problems may come out unchanged (a single value, constant columns of
  // extreme data, a clamp range HardSwish never enters); most must not.
  if (c.cases == 0 || c.changed * 3 < c.cases * 2 || c.below == 0 || c.between == 0 || c.above == 0) {
    record_failure(__FILE__, __LINE__,
                   std::string(what) + ": HardSwish coverage too thin: " + std::to_string(c.cases) + " cases, " +
                       std::to_string(c.changed) + " changed, values below/between/above the bends " +
                       std::to_string(c.below) + "/" + std::to_string(c.between) + "/" + std::to_string(c.above));
  }
}

void make_hardswish_stage(lowbit::Requantization* rq, const int32_t* acc, size_t m, size_t n,
                          size_t channels) {
  auto& r = rng();
  const float y_scale = std::exp2(std::uniform_real_distribution<float>(std::log2(1e-3f), 1.0f)(r));
  rq->hardswish = true;
  rq->hardswish_k = y_scale / 6.0f;
  const float span = std::max(40.0f, 6.0f / y_scale);
  // The largest |x| of a channel lands anywhere from inside the quadratic part
  // (a channel of one or two values still meets it) to past both bends.
  std::uniform_real_distribution<float> jitter(0.2f, 1.5f);
  rq->scale.assign(channels, 0.0f);
  std::vector<double> largest(channels, 0.0);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      int32_t v = acc[i * n + j];
      if (!rq->bias.empty()) v = lowbit::fixedpoint::wrapping_add(v, rq->bias[rq->bias.size() == 1 ? 0 : j]);
      double& l = largest[channels == 1 ? 0 : j];
      l = std::max(l, std::fabs(static_cast<double>(v)));
    }
  }
  for (size_t c = 0; c < channels; ++c) {
    const double l = largest[c] > 0 ? largest[c] : 1.0;
    rq->scale[c] = static_cast<float>(span * jitter(r) / l);
  }
}

void tally_hardswish(const lowbit::Requantization& rq, const int32_t* acc, size_t m, size_t n) {
  lowbit::Requantization plain = rq;
  plain.hardswish = false;
  bool changed = false;
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      const int32_t a = acc[i * n + j];
      if (lowbit::requantize_one(rq, a, j) != lowbit::requantize_one(plain, a, j)) changed = true;
      int32_t v = a;
      if (!rq.bias.empty()) v = lowbit::fixedpoint::wrapping_add(v, rq.bias[rq.bias.size() == 1 ? 0 : j]);
      const float x = static_cast<float>(v) * rq.scale[rq.scale.size() == 1 ? 0 : j];
      const float t = x * rq.hardswish_k + 0.5f;
      ++(t < 0.0f ? g_coverage.below : t > 1.0f ? g_coverage.above : g_coverage.between);
    }
  }
  ++g_coverage.cases;
  if (changed) ++g_coverage.changed;
}

std::vector<int32_t> hardswish_fma_sensitive(const lowbit::Requantization& rq, size_t limit) {
  const float s = rq.scale[0], k = rq.hardswish_k;
  const float lo = static_cast<float>(rq.qmin - rq.zero_point), hi = static_cast<float>(rq.qmax - rq.zero_point);
  auto fused = [&](int32_t acc) {
    const float x = static_cast<float>(acc) * s;
    float t = std::fma(x, k, 0.5f);
    t = t > 1.0f ? 1.0f : (t < 0.0f ? 0.0f : t);
    float y = x * t;
    y = y < lo ? lo : (y > hi ? hi : y);
    return static_cast<int32_t>(std::nearbyint(y)) + rq.zero_point;
  };
  lowbit::Requantization plain = rq;
  plain.bias.clear();
  std::vector<int32_t> out;
  for (int j = -60; j < 120 && out.size() < limit; ++j) {
    // k x^2 + x / 2 = y, the root on the quadratic part.
    const double y = j + 0.5, disc = 0.25 + 4.0 * k * y;
    if (disc < 0) continue;
    const double x = (-0.5 + std::sqrt(disc)) / (2.0 * k);
    if (x * k <= -0.5 || x * k >= 0.5 || std::fabs(x / s) > 2e9) continue;
    const int32_t center = static_cast<int32_t>(x / s);
    for (int32_t acc = center - 4096; acc <= center + 4096 && out.size() < limit; ++acc) {
      if (fused(acc) != lowbit::requantize_one(plain, acc, 0)) out.push_back(acc);
    }
  }
  return out;
}

std::string GemmTester::describe() const {
  static const char* const outs[] = {"int32", "fp32/tensor", "fp32/channel", "fixedpoint/tensor", "fixedpoint/channel"};
  return "m=" + std::to_string(m_) + " n=" + std::to_string(n_) + " k=" + std::to_string(k_) +
         (a_signed_ ? " A=s8" : " A=u8") + (b_signed_ ? " B=s8" : " B=u8") +
         " data=" + std::to_string(static_cast<int>(data_)) +
         " zp=" + std::to_string(static_cast<int>(zero_points_)) + " out=" + outs[static_cast<int>(output_)] +
         (out_signed_ ? "->s8" : "->u8") + (bias_ ? " bias" : "") + (hardswish_ ? " hardswish" : "");
}

bool GemmTester::test(lowbit::Isa isa) const {
  using namespace lowbit;
  const GemmPath* path = gemm_path(isa);
  if (path == nullptr) return true;
  const size_t a_stride = k_ + a_stride_pad_;
  std::vector<uint8_t> a(m_ * a_stride), b(k_ * n_);
  fill(a, a_signed_, data_, true);
  fill(b, b_signed_, data_, false);

  int32_t a_zp = 0;
  std::vector<int32_t> b_zp;
  if (zero_points_ != ZeroPoints::kNone) {
    a_zp = random_zero_point(a_signed_);
    const size_t count = zero_points_ == ZeroPoints::kPerColumn ? n_ : 1;
    for (size_t j = 0; j < count; ++j) b_zp.push_back(random_zero_point(b_signed_));
  }

  Requantization rq;
  const bool requant = output_ != Output::kInt32;
  if (requant) {
    const bool per_channel = output_ == Output::kFp32PerChannel || output_ == Output::kFixedpointPerChannel;
    const size_t count = per_channel ? n_ : 1;
    std::uniform_real_distribution<float> scale_dist(0.25f, 4.0f);
    // Typical scales keep outputs in range; 1 in 4 channels saturates on purpose.
    const float typical = 1.0f / (64.0f * static_cast<float>(k_));
    rq.mode = (output_ == Output::kFp32PerTensor || output_ == Output::kFp32PerChannel)
                  ? RequantMode::kFp32 : RequantMode::kFixedpoint;
    for (size_t j = 0; j < count; ++j) {
      const float s = typical * scale_dist(rng()) * ((j % 4 == 3) ? 64.0f : 1.0f);
      if (rq.mode == RequantMode::kFp32) {
        rq.scale.push_back(s);
      } else {
        int32_t mult;
        int shift;
        fixedpoint::quantize_multiplier(s, &mult, &shift);
        rq.multiplier.push_back(mult);
        rq.shift.push_back(shift);
      }
    }
    if (bias_) {
      std::uniform_int_distribution<int32_t> bd(-100000, 100000);
      for (size_t j = 0; j < n_; ++j) rq.bias.push_back(bd(rng()));
    }
    rq.out_signed = out_signed_;
    rq.zero_point = random_zero_point(out_signed_);
    // A clamp narrower than the type sometimes (a fused ReLU6-like range).
    rq.qmin = out_signed_ ? -128 : 0;
    rq.qmax = out_signed_ ? 127 : 255;
    if (rng()() % 3 == 0) {
      if (hardswish_ && rq.mode == RequantMode::kFp32) {
        // HardSwish goes down to -3/8 of a unit: keep a few steps below the zero point.
        rq.qmin = std::max(rq.qmin, rq.zero_point - 1 - static_cast<int32_t>(rng()() % 40));
      } else {
        rq.qmin = rq.zero_point > rq.qmin + 10 ? rq.zero_point : rq.qmin;
      }
      rq.qmax = rq.qmax - 20;
    }
  }

  // Expected: the ground truth formula, then the scalar output stage.
  std::vector<int32_t> acc(m_ * n_);
  ref::gemm_s32(m_, n_, k_, a.data(), a_signed_, a_stride, a_zp, b.data(), b_signed_, n_,
                b_zp.data(), b_zp.size(), acc.data(), n_);
  if (hardswish_ && rq.mode == RequantMode::kFp32 && requant) {
    make_hardswish_stage(&rq, acc.data(), m_, n_, rq.scale.size());
    tally_hardswish(rq, acc.data(), m_, n_);
  }
  const size_t out_bytes = requant ? 1 : 4;
  std::vector<uint8_t> expected(m_ * n_ * out_bytes);
  if (requant) {
    ref::requantize(rq, acc.data(), m_, n_, 1, expected.data());
  } else {
    std::memcpy(expected.data(), acc.data(), expected.size());
  }

  PackedMatrix packed;
  pack_matrix(*path, b.data(), b_signed_, k_, n_, n_, b_zp, &packed);
  GemmArgs args;
  args.m = m_;
  args.a = a.data();
  args.a_stride = a_stride;
  args.a_signed = a_signed_;
  args.a_zero_point = a_zp;
  args.b = &packed;
  args.rq = requant ? &rq : nullptr;
  args.c_stride = n_;

  auto compare = [&](const std::vector<uint8_t>& got, const char* how) {
    for (size_t i = 0; i < m_; ++i) {
      for (size_t j = 0; j < n_; ++j) {
        const size_t at = (i * n_ + j) * out_bytes;
        if (std::memcmp(&got[at], &expected[at], out_bytes) != 0) {
          int32_t g = 0, e = 0;
          if (requant) {
            g = out_signed_ ? static_cast<int8_t>(got[at]) : got[at];
            e = out_signed_ ? static_cast<int8_t>(expected[at]) : expected[at];
          } else {
            std::memcpy(&g, &got[at], 4);
            std::memcpy(&e, &expected[at], 4);
          }
          record_failure(__FILE__, __LINE__,
                         std::string(isa_name(isa)) + " " + how + " " + describe() + ": C[" +
                             std::to_string(i) + "][" + std::to_string(j) + "] = " +
                             std::to_string(g) + ", ref " + std::to_string(e));
          return false;
        }
      }
    }
    return true;
  };

  std::vector<uint8_t> got(expected.size(), 0xCD);
  args.c = got.data();
  gemm(*path, args);
  if (!compare(got, "whole")) return false;

  // Uneven splits: rows at an arbitrary point, columns at a multiple of nr.
  std::fill(got.begin(), got.end(), 0xCD);
  const size_t m_split = m_ / 3;
  size_t n_split = (n_ / 2) / path->nr * path->nr;
  const size_t m_cuts[3] = {0, m_split, m_};
  const size_t n_cuts[3] = {0, n_split, n_};
  for (int mi = 0; mi < 2; ++mi)
    for (int ni = 0; ni < 2; ++ni)
      if (m_cuts[mi] < m_cuts[mi + 1] && n_cuts[ni] < n_cuts[ni + 1])
        path->run(args, m_cuts[mi], m_cuts[mi + 1], n_cuts[ni], n_cuts[ni + 1]);
  return compare(got, "split");
}

}  // namespace lowbit_test
