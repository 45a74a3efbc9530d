// HardSwish fused into the ARM int8 output stages (Requantization::hardswish):
// the GEMM paths (neon, neondot: 4-row and 1-row kernels, through gemm and
// through im2col convolutions) and the NEON depthwise kernel against
// requantize_one on random problems with edge shapes, bit for bit. Scales and
// biases are fitted to each problem's accumulators so that acc * scale spans
// about [-20, 40] output steps, and most y_scales put both HardSwish bends
// (x * k = -1/2 and +1/2) inside that span. Each case also runs without
// HardSwish, and the two expected outputs must differ: a path that ignored the
// flag would fail.
#if defined(__aarch64__)

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"
#include "lowbit/conv_s8.h"
#include "lowbit/gemm.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

bool is_arm_path(Isa isa) { return isa == Isa::kNeon || isa == Isa::kNeonDot; }

// Options of one output stage, drawn per case.
struct StageOptions {
  bool per_channel = false;
  bool bias = false;
  bool out_signed = false;
  bool narrow = false;  // qmin/qmax inside the type's range
};

StageOptions options_from_bits(unsigned bits) {
  StageOptions o;
  o.per_channel = bits & 1;
  o.bias = bits & 2;
  o.out_signed = bits & 4;
  o.narrow = bits & 8;
  return o;
}

// y_scale: log-uniform in [1e-3, 2] for one case in three (bends usually far
// outside the span: HardSwish is then about x/2 there), else in [0.15, 2] (both
// bends at |x| = 3 / y_scale <= 20 steps, inside the span).
float draw_y_scale() {
  auto& r = rng();
  const bool wide = r() % 3 == 0;
  std::uniform_real_distribution<float> u(std::log(wide ? 1e-3f : 0.15f), std::log(2.0f));
  return std::exp(u(r));
}

// A zero point for random bytes: anywhere in the type's range, or (centered)
// within 16 of the bytes' mean, so that accumulators without a bias still
// straddle zero.
int32_t draw_zero_point(bool is_signed, bool centered) {
  const int32_t r = static_cast<int32_t>(rng()() % (centered ? 33 : 256));
  const int32_t mid = is_signed ? 0 : 128;
  return centered ? mid - 16 + r : mid - 128 + r;
}

// An fp32 output stage with HardSwish for `channels` channels whose raw
// accumulators are `acc` ([rows][channels], at least one row): per channel (or
// over all of them) the scale maps the accumulator range onto about 60 steps
// and, with a bias, the bias moves it to about [-20, 40].
Requantization fitted_stage(const std::vector<int32_t>& acc, size_t channels, const StageOptions& o) {
  auto& r = rng();
  const size_t groups = o.per_channel ? channels : 1;
  std::vector<int64_t> lo(groups, INT64_MAX), hi(groups, INT64_MIN);
  for (size_t i = 0; i < acc.size(); ++i) {
    const size_t g = o.per_channel ? i % channels : 0;
    lo[g] = std::min<int64_t>(lo[g], acc[i]);
    hi[g] = std::max<int64_t>(hi[g], acc[i]);
  }
  std::uniform_real_distribution<double> jitter(0.8, 1.25), target(-20.0, 40.0);
  Requantization rq;
  rq.mode = RequantMode::kFp32;
  for (size_t g = 0; g < groups; ++g) {
    const double low = static_cast<double>(lo[g]), span = static_cast<double>(hi[g] - lo[g]);
    double s, shift;
    if (span > 0) {  // the range onto ~60 steps, its low end onto ~-20 steps
      s = 60.0 / span * jitter(r);
      shift = -20.0 / s - low;
    } else {  // one value (a channel of one row): about +-20 steps, with a bias anywhere in [-20, 40]
      s = 20.0 / std::max(std::fabs(low), 1.0) * jitter(r);
      shift = target(r) / s - low;
    }
    rq.scale.push_back(static_cast<float>(s));
    if (o.bias) rq.bias.push_back(static_cast<int32_t>(std::clamp(std::nearbyint(shift), -1e9, 1e9)));
  }
  rq.out_signed = o.out_signed;
  std::uniform_int_distribution<int32_t> zp(o.out_signed ? -100 : 20, o.out_signed ? 80 : 200);
  rq.zero_point = zp(r);
  rq.qmin = o.out_signed ? -128 : 0;
  rq.qmax = o.out_signed ? 127 : 255;
  if (o.narrow) {  // both ends inside the span: the clamp after HardSwish matters
    rq.qmin = rq.zero_point - 1 - static_cast<int32_t>(r() % 8);
    rq.qmax = rq.zero_point + 10 + static_cast<int32_t>(r() % 25);
  }
  rq.hardswish = true;
  rq.hardswish_k = draw_y_scale() / 6.0f;
  return rq;
}

// requantize_one over [rows][channels] accumulators, as the 8-bit bytes a path writes.
std::vector<uint8_t> expected_bytes(const Requantization& rq, const std::vector<int32_t>& acc,
                                    size_t channels) {
  std::vector<uint8_t> out(acc.size());
  for (size_t i = 0; i < acc.size(); ++i) {
    out[i] = static_cast<uint8_t>(requantize_one(rq, acc[i], i % channels));
  }
  return out;
}

std::string describe_stage(const Requantization& rq) {
  return std::string(rq.scale.size() > 1 ? " per-channel" : " per-tensor") +
         (rq.bias.empty() ? "" : " bias") + (rq.out_signed ? " ->s8" : " ->u8") + " zp=" +
         std::to_string(rq.zero_point) + " q=[" + std::to_string(rq.qmin) + "," +
         std::to_string(rq.qmax) + "] hardswish=" + (rq.hardswish ? "1" : "0") +
         " k=" + std::to_string(rq.hardswish_k);
}

// Compares a path's output bytes with the expectation; records the first mismatch.
bool same_bytes(const std::vector<uint8_t>& got, const std::vector<uint8_t>& expect, size_t channels,
                const Requantization& rq, const std::string& what) {
  for (size_t i = 0; i < expect.size(); ++i) {
    if (got[i] == expect[i]) continue;
    auto value = [&](uint8_t b) { return rq.out_signed ? int{static_cast<int8_t>(b)} : int{b}; };
    record_failure(__FILE__, __LINE__,
                   what + describe_stage(rq) + ": out[" + std::to_string(i / channels) + "][" +
                       std::to_string(i % channels) + "] = " + std::to_string(value(got[i])) +
                       ", expected " + std::to_string(value(expect[i])));
    return false;
  }
  return true;
}

// Counts the cases whose HardSwish output differs from the plain stage's.
struct Tally {
  size_t cases = 0, differing = 0;
  void add(const std::vector<uint8_t>& with, const std::vector<uint8_t>& without) {
    ++cases;
    if (with != without) ++differing;
  }
  // Every case with enough outputs is built to cross at least the x = 0 region,
  // where HardSwish halves x: nearly all must differ.
  void check(const char* what) const {
    std::printf("  %s: %zu of %zu cases differ from the stage without HardSwish\n", what, differing, cases);
    if (cases == 0) return;
    if (differing * 10 < cases * 9) {
      record_failure(__FILE__, __LINE__,
                     std::string(what) + ": only " + std::to_string(differing) + " of " +
                         std::to_string(cases) + " cases differ from the stage without HardSwish");
    }
  }
};

// One GEMM problem on one path: whole call and a split into sub-blocks (tiles
// of 1 row and of the full height), with and without HardSwish.
void check_gemm(Isa isa, size_t m, size_t n, size_t k, bool a_signed, const StageOptions& o,
                Tally* tally) {
  auto& r = rng();
  const GemmPath* path = gemm_path(isa);
  const size_t a_stride = k + r() % 3;
  std::vector<uint8_t> a(m * a_stride), b(k * n);
  for (auto& v : a) v = static_cast<uint8_t>(r());
  for (auto& v : b) v = static_cast<uint8_t>(r());
  const bool b_signed = r() % 4 != 0;
  const int32_t za = draw_zero_point(a_signed, !o.bias);
  std::vector<int32_t> zb;
  const size_t zb_count = r() % 3;  // none, per tensor or per column
  for (size_t j = 0; j < (zb_count == 2 ? n : zb_count); ++j) {
    zb.push_back(draw_zero_point(b_signed, !o.bias));
  }
  std::vector<int32_t> acc(m * n);
  ref::gemm_s32(m, n, k, a.data(), a_signed, a_stride, za, b.data(), b_signed, n, zb.data(),
                zb.size(), acc.data(), n);
  Requantization rq = fitted_stage(acc, n, o);
  PackedMatrix packed;
  pack_matrix(*path, b.data(), b_signed, k, n, n, zb, &packed);
  GemmArgs args;
  args.m = m;
  args.a = a.data();
  args.a_stride = a_stride;
  args.a_signed = a_signed;
  args.a_zero_point = za;
  args.b = &packed;
  args.c_stride = n;
  const std::string what = std::string(isa_name(isa)) + " gemm m=" + std::to_string(m) + " n=" +
                           std::to_string(n) + " k=" + std::to_string(k) + (a_signed ? " A=s8" : " A=u8");
  std::vector<uint8_t> expect[2];
  for (int hs = 1; hs >= 0; --hs) {
    rq.hardswish = hs == 1;
    expect[hs] = expected_bytes(rq, acc, n);
    args.rq = &rq;
    std::vector<uint8_t> got(m * n, 0xCD);
    args.c = got.data();
    gemm(*path, args);
    if (!same_bytes(got, expect[hs], n, rq, what + " whole")) return;
    // Rows split at an odd point (1-row tiles run the GEMV kernel), columns on a panel boundary.
    std::fill(got.begin(), got.end(), 0xCD);
    const size_t m_cut = m / 2 + (m > 2);
    const size_t n_cut = n > path->nr ? path->nr : n;
    const size_t mc[3] = {0, std::min(m_cut, m), m}, nc[3] = {0, n_cut, n};
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j)
        if (mc[i] < mc[i + 1] && nc[j] < nc[j + 1]) path->run(args, mc[i], mc[i + 1], nc[j], nc[j + 1]);
    if (!same_bytes(got, expect[hs], n, rq, what + " split")) return;
  }
  if (m * n >= 16) tally->add(expect[1], expect[0]);
}

// One convolution (depthwise when groups == c == m, else im2col or direct GEMM)
// on one path, with and without HardSwish, against requantize_one of ref's
// int32 accumulators.
void check_conv(Isa isa, size_t n, size_t h, size_t w, size_t c, size_t m, size_t groups,
                const Conv2dGeometry& g, bool x_signed, const StageOptions& o, Tally* tally) {
  auto& r = rng();
  std::vector<uint8_t> x(n * h * w * c), wt(m * (c / groups) * g.kh * g.kw);
  for (auto& v : x) v = static_cast<uint8_t>(r());
  for (auto& v : wt) v = static_cast<uint8_t>(r());
  const bool w_signed = r() % 4 != 0;
  const int32_t x_zp = draw_zero_point(x_signed, !o.bias);
  std::vector<int32_t> w_zp;
  const size_t wz = r() % 3;  // none, per tensor or per channel
  for (size_t j = 0; j < (wz == 2 ? m : wz); ++j) {
    w_zp.push_back(draw_zero_point(w_signed, !o.bias));
  }
  const size_t oh = g.out_h(h), ow = g.out_w(w);
  std::vector<int32_t> acc(n * oh * ow * m);
  ref::conv_s8(n, h, w, c, x.data(), x_signed, x_zp, wt.data(), w_signed, m, groups, w_zp.data(),
               w_zp.size(), g, nullptr, acc.data());
  Requantization rq = fitted_stage(acc, m, o);
  PackedConvS8 packed;
  pack_conv_s8(isa, wt.data(), w_signed, m, c / groups, g.kh, g.kw, groups, w_zp, &packed);
  const std::string what = std::string(isa_name(isa)) + (packed.depthwise ? " depthwise" : " conv") +
                           " x=[" + std::to_string(n) + "," + std::to_string(h) + "," +
                           std::to_string(w) + "," + std::to_string(c) + "] m=" + std::to_string(m) +
                           " k=" + std::to_string(g.kh) + "x" + std::to_string(g.kw) + " s=" +
                           std::to_string(g.stride_h) + (x_signed ? " x=s8" : " x=u8");
  std::vector<uint8_t> expect[2];
  for (int hs = 1; hs >= 0; --hs) {
    rq.hardswish = hs == 1;
    expect[hs] = expected_bytes(rq, acc, m);
    ConvS8Plan plan;
    prepare_conv_s8(packed, n, h, w, g, x_signed, x_zp, &rq, &plan);
    std::vector<uint8_t> got(acc.size() + 64, 0xA5);
    conv_s8(packed, plan, x.data(), got.data(), nullptr);
    for (size_t i = acc.size(); i < got.size(); ++i) {
      if (got[i] != 0xA5) {
        record_failure(__FILE__, __LINE__, what + ": wrote past the output");
        return;
      }
    }
    got.resize(acc.size());
    if (!same_bytes(got, expect[hs], m, rq, what)) return;
  }
  if (acc.size() >= 16) tally->add(expect[1], expect[0]);
}

Conv2dGeometry square(size_t k, size_t stride, size_t pad) {
  Conv2dGeometry g;
  g.kh = g.kw = k;
  g.stride_h = g.stride_w = stride;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = pad;
  return g;
}

// Runs body(isa, tally, variant) on every ARM path under test (variant counts
// the cases across paths, to cycle through the stage options), then checks
// that the HardSwish cases changed outputs; a skip when no ARM path runs.
template <class Body>
void on_arm_paths(const char* what, Body&& body) {
  bool any = false;
  Tally tally;
  unsigned variant = 0;
  for (Isa isa : isas_under_test()) {
    if (!is_arm_path(isa)) continue;
    any = true;
    body(isa, tally, variant);
    RETURN_IF_FAILED();
  }
  if (!any) {
    skip("no ARM path under test");
    return;
  }
  tally.check(what);
}

}  // namespace

TEST(arm_hardswish_gemm_edge_shapes) {
  on_arm_paths("gemm", [](Isa isa, Tally& tally, unsigned& variant) {
    const size_t nr = gemm_path(isa)->nr;
    // Rows: 1 (GEMV only), tiles of 4 with 1-3 left over; columns: tails around
    // one and two panels; K: below, at and past one 16-byte block.
    for (size_t m : {1, 2, 3, 4, 5, 7, 9}) {
      for (size_t n : {size_t{1}, size_t{3}, nr - 1, nr, nr + 1, 2 * nr + 3, size_t{37}}) {
        if (n == 0) continue;
        for (size_t k : {1, 15, 16, 17, 40}) {
          // Every combination of the stage options comes up, against each A type.
          check_gemm(isa, m, n, k, variant % 2 == 1, options_from_bits(variant / 2), &tally);
          ++variant;
          RETURN_IF_FAILED();
        }
      }
    }
  });
}

TEST(arm_hardswish_depthwise_channel_tails) {
  on_arm_paths("depthwise", [](Isa isa, Tally& tally, unsigned& variant) {
    // Channels: under, at and past the 16-channel block; 3x3 / 5x5, stride 1 and 2.
    for (size_t c : {1, 5, 16, 17, 33, 40}) {
      for (size_t k : {3, 5}) {
        for (size_t stride : {1, 2}) {
          const StageOptions o = options_from_bits(variant / 2);
          check_conv(isa, 1 + variant % 2, 7, 6, c, c, c, square(k, stride, k / 2), variant % 3 == 0,
                     o, &tally);
          ++variant;
          RETURN_IF_FAILED();
        }
      }
    }
    // A single output pixel (1 row, 1 column) and a 1-channel image.
    check_conv(isa, 1, 3, 3, 24, 24, 24, square(3, 1, 0), false, options_from_bits(3), &tally);
    check_conv(isa, 1, 5, 9, 1, 1, 1, square(3, 1, 1), true, options_from_bits(12), &tally);
  });
}

TEST(arm_hardswish_conv_gemm_forms) {
  on_arm_paths("conv", [](Isa isa, Tally& tally, unsigned& variant) {
    for (size_t m : {1, 5, 16, 19}) {
      // im2col 3x3 (padded, stride 2), direct 1x1, and a grouped 3x3.
      check_conv(isa, 1, 6, 5, 8, m, 1, square(3, 2, 1), variant % 2 == 0,
                 options_from_bits(variant), &tally);
      ++variant;
      check_conv(isa, 2, 3, 4, 12, m, 1, square(1, 1, 0), variant % 2 == 0,
                 options_from_bits(variant), &tally);
      ++variant;
      check_conv(isa, 1, 5, 5, 4, 2 * m, 2, square(3, 1, 1), variant % 2 == 0,
                 options_from_bits(variant), &tally);
      ++variant;
      RETURN_IF_FAILED();
    }
  });
}

#endif  // __aarch64__
