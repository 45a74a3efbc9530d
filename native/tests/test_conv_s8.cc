// Int8 convolution (lowbit/conv_s8.h) and its depthwise kernel
// (lowbit/depthwise_s8.h): every compiled path the CPU supports against
// ref::conv_s8, the formula evaluated directly, bit for bit.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "harness.h"
#include "lowbit/conv_s8.h"
#include "lowbit/thread_pool.h"

using namespace lowbit_test;

namespace {

enum class Values { kRandom, kExtreme, kAlternating };
enum class WZero { kNone, kPerTensor, kPerChannel };
enum class Out { kInt32, kFp32PerTensor, kFp32PerChannel, kFixedpointPerTensor, kFixedpointPerChannel };

// What the HardSwish cases of a test exercised (reset by each test that asks
// for HardSwish, checked by check_hardswish_cases): a case that would pass
// with the flag ignored proves nothing, so count the cases whose ref output
// differs from the same stage without HardSwish, and the outputs on each side
// of HardSwish's two bends (x * k = -1/2 and +1/2).
struct HardSwishStats {
  size_t cases = 0, differing = 0;             // cases, those with an output that differs
  size_t outputs = 0, differing_outputs = 0;
  size_t below = 0, between = 0, above = 0;  // t = x*k + 1/2 < 0, in [0, 1], > 1
};

HardSwishStats& hardswish_stats() {
  static HardSwishStats stats;
  return stats;
}

// Two thirds of the HardSwish cases changed the output, a quarter of all
// outputs changed, and both bends were crossed. (Cases whose every tap is
// padding, or extreme values with extreme zero points, have constant
// accumulators: such a case may not change.)
void check_hardswish_cases(const char* file, int line) {
  const HardSwishStats& h = hardswish_stats();
  if (h.cases == 0 || h.differing * 3 < h.cases * 2 || h.differing_outputs * 4 < h.outputs || h.below == 0 ||
      h.between == 0 || h.above == 0) {
    auto s = [](size_t v) { return std::to_string(v); };
    record_failure(file, line, "HardSwish cases: " + s(h.differing) + " of " + s(h.cases) + " (outputs: " +
                                   s(h.differing_outputs) + " of " + s(h.outputs) +
                                   ") differ from the stage without it; outputs below/between/above the bends: " +
                                   s(h.below) + "/" + s(h.between) + "/" + s(h.above));
  }
}
#define CHECK_HARDSWISH_CASES() check_hardswish_cases(__FILE__, __LINE__)

// Builds one convolution problem (builder style) and checks a path against ref.
class ConvTester {
 public:
  ConvTester& input(size_t n, size_t h, size_t w, size_t c) { n_ = n; h_ = h; w_ = w; c_ = c; return *this; }
  ConvTester& m(size_t v) { m_ = v; return *this; }
  ConvTester& groups(size_t v) { groups_ = v; return *this; }
  ConvTester& kernel(size_t kh, size_t kw) { g_.kh = kh; g_.kw = kw; return *this; }
  ConvTester& pads(size_t t, size_t l, size_t b, size_t r) {
    g_.pad_top = t; g_.pad_left = l; g_.pad_bottom = b; g_.pad_right = r; return *this;
  }
  ConvTester& strides(size_t sh, size_t sw) { g_.stride_h = sh; g_.stride_w = sw; return *this; }
  ConvTester& dilations(size_t dh, size_t dw) { g_.dilation_h = dh; g_.dilation_w = dw; return *this; }
  ConvTester& x_signed(bool v) { x_signed_ = v; return *this; }
  ConvTester& w_signed(bool v) { w_signed_ = v; return *this; }
  ConvTester& values(Values v) { values_ = v; return *this; }
  ConvTester& w_zero(WZero v) { w_zero_ = v; return *this; }
  ConvTester& x_zero_point(int v) { x_zp_ = v; x_zp_set_ = true; return *this; }
  // Every channel's scale this value (fp32 modes), bias drawn from the whole
  // int32 range (accumulators near the wrap-around), clamp range [lo, hi].
  ConvTester& fixed_scale(float v) { fixed_scale_ = v; return *this; }
  ConvTester& huge_bias(bool v) { huge_bias_ = v; return *this; }
  ConvTester& clamp_range(int lo, int hi) { clamp_lo_ = lo; clamp_hi_ = hi; clamp_set_ = true; return *this; }
  // One weight zero point for every channel, this value.
  ConvTester& w_zero_point(int v) { w_zp_ = v; w_zp_set_ = true; return *this; }
  ConvTester& output(Out v) { out_ = v; return *this; }
  ConvTester& out_signed(bool v) { out_signed_ = v; return *this; }
  ConvTester& bias(bool v) { bias_ = v; return *this; }
  ConvTester& clamp(bool v) { clamp_ = v; return *this; }
  // fp32 output stages only: HardSwish before the clamp, k = y_scale / 6 with
  // y_scale drawn from [1e-3, 2]. Unless fixed_scale is set, the scales put
  // x = (acc + bias) * scale roughly within [-45, 45] steps, so both of
  // HardSwish's bends (x = -3 / y_scale, +3 / y_scale) are crossed, the bias
  // stays within the accumulators' spread, the zero point leaves room on both
  // sides and clamp() narrows both ends of the range.
  ConvTester& hardswish(bool v) { hardswish_ = v; return *this; }
  ConvTester& pool(lowbit::ThreadPool* v) { pool_ = v; return *this; }
  // Places x so that it ends right before an unmapped page: any read past it faults.
  ConvTester& guard(bool v) { guard_ = v; return *this; }
  // Whether the small-m kernels must (1) or must not (0) run on ISAs that have them; -1: either.
  ConvTester& expect_small_m(bool v) { expect_small_m_ = v ? 1 : 0; return *this; }
  // Grows the bottom/right padding until at least one output pixel fits.
  ConvTester& fit() {
    while (g_.out_h(h_) == 0) ++g_.pad_bottom;
    while (g_.out_w(w_) == 0) ++g_.pad_right;
    return *this;
  }

  bool depthwise() const { return groups_ == c_ && m_ == c_; }
  bool geometry_unpadded() const { return g_.pad_top + g_.pad_left + g_.pad_bottom + g_.pad_right == 0; }
  size_t k() const { return g_.kh * g_.kw * (c_ / groups_); }

  std::string describe() const {
    static const char* const outs[] = {"int32", "fp32/tensor", "fp32/channel", "fixedpoint/tensor", "fixedpoint/channel"};
    auto s = [](size_t v) { return std::to_string(v); };
    return "x=[" + s(n_) + "," + s(h_) + "," + s(w_) + "," + s(c_) + "] m=" + s(m_) + " g=" + s(groups_) +
           " k=" + s(g_.kh) + "x" + s(g_.kw) + " pads=" + s(g_.pad_top) + "," + s(g_.pad_left) + "," +
           s(g_.pad_bottom) + "," + s(g_.pad_right) + " s=" + s(g_.stride_h) + "," + s(g_.stride_w) +
           " d=" + s(g_.dilation_h) + "," + s(g_.dilation_w) + (x_signed_ ? " x=s8" : " x=u8") +
           (w_signed_ ? " w=s8" : " w=u8") + " values=" + s(static_cast<size_t>(values_)) +
           " wzp=" + s(static_cast<size_t>(w_zero_)) + " out=" + outs[static_cast<int>(out_)] +
           (out_signed_ ? "->s8" : "->u8") + (bias_ ? " bias" : "") + (clamp_ ? " clamp" : "") +
           (clamp_set_ ? " range=" + std::to_string(clamp_lo_) + ".." + std::to_string(clamp_hi_) : "") +
           (fixed_scale_ > 0 ? " scale=" + std::to_string(fixed_scale_) : "") + (hardswish_ ? " hardswish" : "") +
           (pool_ != nullptr ? " threads=" + s(pool_->threads()) : "") + (guard_ ? " guarded" : "");
  }

  bool test(lowbit::Isa isa) const {
    using namespace lowbit;
    if (gemm_path(isa) == nullptr) return true;
    auto& r = rng();
    std::vector<uint8_t> x(n_ * h_ * w_ * c_), w(m_ * (c_ / groups_) * g_.kh * g_.kw);
    fill(x, x_signed_, true);
    fill(w, w_signed_, false);
    const int32_t x_zp = x_zp_set_ ? x_zp_ : zero_point(x_signed_);
    std::vector<int32_t> w_zp;
    if (w_zp_set_) {
      w_zp.push_back(w_zp_);
    } else if (w_zero_ != WZero::kNone) {
      for (size_t j = 0; j < (w_zero_ == WZero::kPerChannel ? m_ : 1); ++j) w_zp.push_back(zero_point(w_signed_));
    }
    const bool requant = out_ != Out::kInt32;
    const size_t oh = g_.out_h(h_), ow = g_.out_w(w_);
    const size_t count = n_ * oh * ow * m_;
    Requantization rq;
    const bool hardswish = hardswish_ && (out_ == Out::kFp32PerTensor || out_ == Out::kFp32PerChannel);
    std::vector<int32_t> acc;  // HardSwish cases: the accumulators, to place x = (acc + bias) * scale
    if (hardswish) {
      acc.resize(count);
      ref::conv_s8(n_, h_, w_, c_, x.data(), x_signed_, x_zp, w.data(), w_signed_, m_, groups_,
                   w_zp.data(), w_zp.size(), g_, nullptr, acc.data());
    }
    if (requant) {
      const bool per_channel = out_ == Out::kFp32PerChannel || out_ == Out::kFixedpointPerChannel;
      rq.mode = out_ == Out::kFp32PerTensor || out_ == Out::kFp32PerChannel ? RequantMode::kFp32 : RequantMode::kFixedpoint;
      if (bias_) {
        std::uniform_int_distribution<int64_t> bd(huge_bias_ ? INT32_MIN : -100000, huge_bias_ ? INT32_MAX : 100000);
        const size_t bias_count = r() % 4 == 0 ? 1 : m_;  // per tensor sometimes
        for (size_t j = 0; j < bias_count; ++j) {
          int64_t b = bd(r);
          if (hardswish && !huge_bias_) {
            // Centres the accumulators of channel j (of all channels per
            // tensor), within a quarter of their spread: x on both sides of 0.
            int64_t sum = 0, lo = INT32_MAX, hi = INT32_MIN;
            size_t n = 0;
            for (size_t i = 0; i < count; ++i) {
              if (bias_count != 1 && i % m_ != j) continue;
              sum += acc[i];
              lo = std::min<int64_t>(lo, acc[i]);
              hi = std::max<int64_t>(hi, acc[i]);
              ++n;
            }
            const int64_t mean = n > 0 ? sum / static_cast<int64_t>(n) : 0, quarter = n > 0 ? (hi - lo) / 8 : 0;
            b = -mean + std::uniform_int_distribution<int64_t>(-quarter, quarter)(r);
          }
          rq.bias.push_back(static_cast<int32_t>(b));
        }
      }
      std::uniform_real_distribution<float> spread(0.25f, 4.0f);
      const float typical = 1.0f / (64.0f * static_cast<float>(k()));
      // The largest |acc + bias| of channel j (of every channel per tensor), as requantize_one wraps it.
      const auto largest = [&](size_t j) {
        int64_t most = 1;
        for (size_t i = 0; i < count; ++i) {
          const size_t ch = i % m_;
          if (per_channel && ch != j) continue;
          const int32_t b = rq.bias.empty() ? 0 : rq.bias[rq.bias.size() == 1 ? 0 : ch];
          most = std::max<int64_t>(most, std::abs(static_cast<int64_t>(fixedpoint::wrapping_add(acc[i], b))));
        }
        return static_cast<float>(most);
      };
      std::uniform_real_distribution<float> reach(25.0f, 45.0f);
      for (size_t j = 0; j < (per_channel ? m_ : 1); ++j) {
        // 1 in 4 channels saturates on purpose.
        float s = fixed_scale_ > 0 ? fixed_scale_ : typical * spread(r) * (j % 4 == 3 ? 64.0f : 1.0f);
        if (hardswish && fixed_scale_ <= 0) s = reach(r) / largest(j);
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
      if (hardswish) {
        rq.hardswish = true;
        rq.hardswish_k = std::uniform_real_distribution<float>(1e-3f, 2.0f)(r) / 6.0f;
      }
      rq.out_signed = out_signed_;
      rq.qmin = out_signed_ ? -128 : 0;
      rq.qmax = out_signed_ ? 127 : 255;
      if (hardswish && fixed_scale_ <= 0) {
        // A ReLU-like range (or a zero point at the bottom of the range) would
        // clamp away HardSwish's negative side: narrowed ranges keep room on
        // both sides of the zero point, which leaves x's [-45, 45] mostly unclamped.
        if (clamp_set_) {
          rq.qmin = clamp_lo_;
          rq.qmax = clamp_hi_;
        } else if (clamp_) {
          rq.qmin += 5 + static_cast<int32_t>(r() % 20);
          rq.qmax -= 20;
        }
        rq.zero_point = rq.qmin + 8 <= rq.qmax - 16
                            ? std::uniform_int_distribution<int32_t>(rq.qmin + 8, rq.qmax - 16)(r)
                            : zero_point(out_signed_);
      } else {
        rq.zero_point = zero_point(out_signed_);
        if (clamp_set_) {
          rq.qmin = clamp_lo_;
          rq.qmax = clamp_hi_;
        } else if (clamp_) {  // a fused ReLU-like range
          rq.qmin = rq.zero_point;
          rq.qmax = rq.qmax - 20 > rq.qmin ? rq.qmax - 20 : rq.qmax;
        }
      }
    }

    const size_t out_bytes = requant ? 1 : 4;
    std::vector<uint8_t> expected(count * out_bytes), got(count * out_bytes + 64, 0xA5);
    ref::conv_s8(n_, h_, w_, c_, x.data(), x_signed_, x_zp, w.data(), w_signed_, m_, groups_,
                 w_zp.data(), w_zp.size(), g_, requant ? &rq : nullptr, expected.data());
    if (hardswish) note_hardswish(x, w, x_zp, w_zp, rq, acc, expected);

    PackedConvS8 packed;
    pack_conv_s8(isa, w.data(), w_signed_, m_, c_ / groups_, g_.kh, g_.kw, groups_, w_zp, &packed);
    if (packed.depthwise != depthwise()) {
      record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " " + describe() + ": depthwise flag wrong");
      return false;
    }
    ConvS8Plan plan;
    prepare_conv_s8(packed, n_, h_, w_, g_, x_signed_, x_zp, requant ? &rq : nullptr, &plan);
    if (expect_small_m_ >= 0 && small_m_path(isa) != nullptr && plan.small_m != (expect_small_m_ == 1)) {
      record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " " + describe() + ": small-m kernels " +
                                             (plan.small_m ? "ran" : "did not run"));
      return false;
    }
    if (guard_) {
      const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
      const size_t span = (x.size() + page - 1) / page * page;
      void* map = mmap(nullptr, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (map == MAP_FAILED) {
        record_failure(__FILE__, __LINE__, "mmap failed");
        return false;
      }
      auto* base = static_cast<uint8_t*>(map);
      mprotect(base + span, page, PROT_NONE);
      uint8_t* guarded = base + span - x.size();
      std::memcpy(guarded, x.data(), x.size());
      conv_s8(packed, plan, guarded, got.data(), pool_);
      munmap(map, span + page);
    } else {
      conv_s8(packed, plan, x.data(), got.data(), pool_);
    }

    for (size_t i = 0; i < count; ++i) {
      const size_t at = i * out_bytes;
      if (std::memcmp(&got[at], &expected[at], out_bytes) == 0) continue;
      int32_t gv = 0, ev = 0;
      if (requant) {
        gv = out_signed_ ? static_cast<int8_t>(got[at]) : got[at];
        ev = out_signed_ ? static_cast<int8_t>(expected[at]) : expected[at];
      } else {
        std::memcpy(&gv, &got[at], 4);
        std::memcpy(&ev, &expected[at], 4);
      }
      const size_t ch = i % m_, px = i / m_;
      record_failure(__FILE__, __LINE__,
                     std::string(isa_name(isa)) + (packed.depthwise ? " depthwise " : plan.small_m ? " small-m " : " gemm ") + describe() +
                         ": out[pixel " + std::to_string(px) + "][" + std::to_string(ch) + "] = " +
                         std::to_string(gv) + ", ref " + std::to_string(ev));
      return false;
    }
    for (size_t i = count * out_bytes; i < got.size(); ++i) {
      if (got[i] != 0xA5) {
        record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " " + describe() + ": wrote past the output");
        return false;
      }
    }
    return true;
  }

 private:
  // Counts (hardswish_stats) whether ref's output with HardSwish differs from
  // the same stage without it, and where the outputs fall against the bends.
  void note_hardswish(const std::vector<uint8_t>& x, const std::vector<uint8_t>& w, int32_t x_zp,
                      const std::vector<int32_t>& w_zp, const lowbit::Requantization& rq,
                      const std::vector<int32_t>& acc, const std::vector<uint8_t>& expected) const {
    using namespace lowbit;
    Requantization plain = rq;
    plain.hardswish = false;
    std::vector<uint8_t> without(expected.size());
    ref::conv_s8(n_, h_, w_, c_, x.data(), x_signed_, x_zp, w.data(), w_signed_, m_, groups_, w_zp.data(),
                 w_zp.size(), g_, &plain, without.data());
    HardSwishStats& stats = hardswish_stats();
    ++stats.cases;
    if (without != expected) ++stats.differing;
    stats.outputs += expected.size();
    for (size_t i = 0; i < expected.size(); ++i) stats.differing_outputs += expected[i] != without[i];
    for (size_t i = 0; i < acc.size(); ++i) {
      const size_t ch = i % m_;
      const int32_t b = rq.bias.empty() ? 0 : rq.bias[rq.bias.size() == 1 ? 0 : ch];
      const float v = static_cast<float>(fixedpoint::wrapping_add(acc[i], b)) * rq.scale[rq.scale.size() == 1 ? 0 : ch];
      const float t = v * rq.hardswish_k + 0.5f;
      ++(t < 0.0f ? stats.below : t > 1.0f ? stats.above : stats.between);
    }
  }

  void fill(std::vector<uint8_t>& v, bool is_signed, bool is_x) const {
    auto& r = rng();
    std::uniform_int_distribution<int> byte(0, 255), coin(0, 1);
    const uint8_t lo = is_signed ? 0x80 : 0x00, hi = is_signed ? 0x7F : 0xFF;
    for (auto& b : v) {
      switch (values_) {
        case Values::kRandom: b = static_cast<uint8_t>(byte(r)); break;
        case Values::kExtreme: b = is_x ? hi : lo; break;  // largest-magnitude products
        case Values::kAlternating: b = coin(r) ? hi : lo; break;
      }
    }
  }
  int32_t zero_point(bool is_signed) const {
    if (values_ != Values::kRandom) {  // extreme zero points too
      std::uniform_int_distribution<int> coin(0, 2);
      const int pick = coin(rng());
      if (pick == 0) return is_signed ? -128 : 0;
      if (pick == 1) return is_signed ? 127 : 255;
    }
    std::uniform_int_distribution<int> d(is_signed ? -128 : 0, is_signed ? 127 : 255);
    return d(rng());
  }

  size_t n_ = 1, h_ = 1, w_ = 1, c_ = 1, m_ = 1, groups_ = 1;
  lowbit::Conv2dGeometry g_;
  bool x_signed_ = false, w_signed_ = true;
  Values values_ = Values::kRandom;
  WZero w_zero_ = WZero::kPerTensor;
  float fixed_scale_ = 0;
  bool huge_bias_ = false, clamp_set_ = false;
  int clamp_lo_ = 0, clamp_hi_ = 0;
  int32_t x_zp_ = 0, w_zp_ = 0;
  bool x_zp_set_ = false, w_zp_set_ = false;
  Out out_ = Out::kInt32;
  bool out_signed_ = false, bias_ = false, clamp_ = false, hardswish_ = false;
  lowbit::ThreadPool* pool_ = nullptr;
  bool guard_ = false;
  int expect_small_m_ = -1;
};

const size_t kChannels[] = {1, 3, 7, 8, 16, 17, 64, 65, 144};
const size_t kKernels[] = {1, 3, 5, 7};
const size_t kExtents[] = {1, 2, 3, 5, 8, 13};

template <class T, size_t N>
T pick(const T (&items)[N]) {
  return items[rng()() % N];
}

// A random problem of the given kind; every option drawn independently.
ConvTester random_problem(size_t c, size_t m, size_t groups, size_t k) {
  auto& r = rng();
  ConvTester t;
  const size_t kh = k, kw = r() % 3 == 0 ? pick(kKernels) : k;
  t.input(1 + r() % 2, pick(kExtents), pick(kExtents), c).m(m).groups(groups).kernel(kh, kw)
      .strides(1 + r() % 2, 1 + r() % 2).dilations(1 + (r() % 3 == 0), 1 + (r() % 3 == 0))
      .pads(r() % (kh + 1), r() % (kw + 1), r() % (kh + 1), r() % (kw + 1))
      .x_signed(r() & 1).w_signed(r() % 4 != 0)
      .values(r() % 4 == 0 ? Values::kAlternating : Values::kRandom)
      .w_zero(static_cast<WZero>(r() % 3)).output(static_cast<Out>(r() % 5))
      .out_signed(r() & 1).bias(r() & 1).clamp(r() % 3 == 0).fit();
  return t;
}

}  // namespace

TEST(conv_s8_depthwise_all_paths) {
  // Every channel count against every kernel size, random geometry and output
  // stage (a third of the fp32 stages with HardSwish).
  hardswish_stats() = {};
  for (size_t c : kChannels) {
    for (size_t k : kKernels) {
      for (int rep = 0; rep < 3; ++rep) {
        ConvTester t = random_problem(c, c, c, k);
        t.hardswish(rng()() % 3 == 0);
        for (auto isa : isas_under_test()) t.test(isa);
        RETURN_IF_FAILED();
      }
    }
  }
  CHECK_HARDSWISH_CASES();
}

TEST(conv_s8_depthwise_every_output_stage) {
  // Both activation types x both weight types x every output kind (fp32 with
  // and without HardSwish), 3x3 and 5x5, stride 1 and 2, on the channel counts
  // with vector tails.
  hardswish_stats() = {};
  for (auto isa : isas_under_test()) {
    for (size_t c : {17, 65, 144}) {
      for (int combo = 0; combo < 4; ++combo) {
        for (int o = 0; o < 5; ++o) {
          for (size_t k : {3, 5}) {
            for (bool hs : {false, true}) {
              if (hs && o != 1 && o != 2) continue;  // HardSwish: fp32 stages only
              ConvTester().input(1, 9, 7, c).m(c).groups(c).kernel(k, k).pads(k / 2, k / 2, k / 2, k / 2)
                  .strides(1 + (o & 1), 1 + (o & 1)).x_signed(combo & 1).w_signed(combo & 2)
                  .w_zero(static_cast<WZero>(o % 3)).output(static_cast<Out>(o))
                  .out_signed(combo == 1 || combo == 2).bias(o != 0).clamp(o == 2).hardswish(hs).test(isa);
            }
          }
        }
      }
      RETURN_IF_FAILED();
    }
  }
  CHECK_HARDSWISH_CASES();
}

TEST(conv_s8_depthwise_weight_layouts) {
  // Paths may pack weights differently when every w - w_zero_point fits int8
  // (symmetric int8 weights, uint8 weights around 128) than when it does not:
  // both forms, every output kind (fp32 with and without HardSwish), both
  // activation types.
  hardswish_stats() = {};
  for (auto isa : isas_under_test()) {
    for (size_t c : {5, 16, 64, 80, 144}) {
      for (int o = 0; o < 5; ++o) {
        for (bool x_signed : {false, true}) {
          ConvTester t;
          t.input(1, 6, 7, c).m(c).groups(c).kernel(3, 3).pads(1, 1, 1, 1).x_signed(x_signed)
              .output(static_cast<Out>(o)).bias(o != 0).out_signed(x_signed)
              .hardswish((o == 1 && x_signed) || (o == 2 && !x_signed));
          ConvTester(t).w_signed(true).w_zero(WZero::kNone).test(isa);         // int8, symmetric
          ConvTester(t).w_signed(false).w_zero_point(128).test(isa);           // uint8 - 128 fits int8
          ConvTester(t).w_signed(false).w_zero_point(0).test(isa);             // uint8 - 0 does not
          ConvTester(t).w_signed(true).w_zero(WZero::kPerChannel).test(isa);   // int8 - zp: mostly not
          ConvTester(t).w_signed(true).w_zero(WZero::kNone).values(Values::kExtreme).test(isa);
        }
      }
      // Kernel heights 1..5 and widths 1..7 with stride and dilation along W
      // 1 or 2 (layouts by kernel column where a path has them).
      for (size_t kh : {1, 2, 4, 5}) {
        for (size_t kw : {1, 2, 3, 7}) {
          ConvTester().input(2, 5, 9, c).m(c).groups(c).kernel(kh, kw).pads(kh / 2, kw / 2, (kh - 1) / 2, kw / 2)
              .strides(1 + kh % 2, 1 + (kw == 3)).dilations(1, 1 + (kw == 2)).x_signed(kh & 1)
              .w_zero(WZero::kNone).output(static_cast<Out>((kh + kw) % 5)).bias(true).fit().test(isa);
        }
      }
      RETURN_IF_FAILED();
    }
  }
  CHECK_HARDSWISH_CASES();
}

TEST(conv_s8_depthwise_output_edges) {
  // Scales around 0.5 (where a path may move the fp32 clamp after rounding),
  // biases across the whole int32 range, full, ReLU-like and inverted clamp
  // ranges, both output types, with and without HardSwish.
  for (auto isa : isas_under_test()) {
    for (size_t c : {64, 144}) {
      for (float scale : {0.5f, 0.49999997f, 0.50000006f, 1.0f, 3.0f, 1e-6f}) {
        for (int out = 0; out < 2; ++out) {
          const bool s8 = out == 1;
          const int lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
          const std::pair<int, int> ranges[] = {{lo, hi}, {lo + 40, hi}, {lo, lo + 100}, {lo + 7, hi - 9}, {hi - 3, lo + 3}};
          for (const auto& range : ranges) {
            for (bool hs : {false, true}) {
              ConvTester().input(1, 4, 5, c).m(c).groups(c).kernel(3, 3).pads(1, 1, 1, 1).x_signed(s8)
                  .values(Values::kAlternating).w_zero(WZero::kNone).output(Out::kFp32PerTensor).out_signed(s8)
                  .fixed_scale(scale).bias(true).huge_bias(true).clamp_range(range.first, range.second)
                  .hardswish(hs).test(isa);
              ConvTester().input(1, 3, 3, c).m(c).groups(c).kernel(3, 3).pads(1, 1, 1, 1).x_signed(!s8)
                  .values(Values::kRandom).w_zero(WZero::kNone).output(Out::kFp32PerChannel).out_signed(s8)
                  .fixed_scale(scale).bias(true).clamp_range(range.first, range.second).hardswish(hs).test(isa);
            }
          }
        }
      }
      RETURN_IF_FAILED();
    }
  }
}

TEST(conv_s8_depthwise_extreme_values) {
  // 0/255 and -128/127 activations and weights, extreme zero points (differences
  // of +-255 on both sides), large kernels: the largest products and sums.
  for (auto isa : isas_under_test()) {
    for (size_t c : {1, 8, 17, 64, 144}) {
      for (int combo = 0; combo < 4; ++combo) {
        for (Values v : {Values::kExtreme, Values::kAlternating}) {
          for (Out o : {Out::kInt32, Out::kFp32PerChannel, Out::kFixedpointPerChannel}) {
            ConvTester().input(1, 6, 5, c).m(c).groups(c).kernel(7, 7).pads(3, 2, 1, 3)
                .x_signed(combo & 1).w_signed(combo & 2).values(v).w_zero(WZero::kPerChannel)
                .output(o).out_signed(combo & 1).test(isa);
            ConvTester().input(2, 5, 5, c).m(c).groups(c).kernel(3, 3).pads(1, 1, 1, 1).strides(2, 2)
                .x_signed(combo & 1).w_signed(combo & 2).values(v).w_zero(WZero::kNone)
                .x_zero_point(combo & 1 ? -128 : 255).output(o).test(isa);
          }
        }
      }
      RETURN_IF_FAILED();
    }
  }
}

TEST(conv_s8_depthwise_band_edges) {
  // Stride 1 along W with 3 and 5 kernel columns, where paths may run several
  // output rows together from interleaved input rows (bands): every width
  // 1..70, channel counts around the 16/32/64-byte vectors, kernel heights
  // that leave a band partly outside the image, strides and dilations along
  // H, pads up to the kernel size, batch 2, extreme zero points and weights,
  // x right before an unmapped page; half the fp32 stages with HardSwish.
  hardswish_stats() = {};
  const size_t channels[] = {1, 3, 5, 8, 16, 24, 33, 40, 48, 64, 88, 104, 200};
  const size_t heights[] = {1, 2, 3, 5, 6, 7, 8};
  auto& r = rng();
  for (auto isa : isas_under_test()) {
    for (size_t kw : {3, 5}) {
      for (size_t w = 1; w <= 70; ++w) {
        const size_t c = pick(channels), kh = 1 + r() % 6, zx_kind = r() % 3;
        const bool x_signed = r() & 1;
        ConvTester t;
        t.input(1 + r() % 2, pick(heights), w, c).m(c).groups(c).kernel(kh, kw)
            .pads(r() % (kh + 1), r() % (kw + 1), r() % (kh + 1), r() % (kw + 1))
            .strides(1 + r() % 3, 1).dilations(1 + (r() % 4 == 0), 1).x_signed(x_signed)
            .w_signed(r() % 4 != 0).w_zero(r() % 4 == 0 ? WZero::kPerTensor : WZero::kNone)
            .values(r() % 3 == 0 ? Values::kExtreme : Values::kRandom)
            .output(static_cast<Out>(r() % 5)).out_signed(r() & 1).bias(r() & 1).clamp(r() % 3 == 0)
            .hardswish(r() % 2 == 0).guard(true).fit();
        if (zx_kind == 1) t.x_zero_point(x_signed ? -128 : 0);
        if (zx_kind == 2) t.x_zero_point(x_signed ? 127 : 255);
        t.test(isa);
      }
      RETURN_IF_FAILED();
    }
  }
  CHECK_HARDSWISH_CASES();
}

TEST(conv_s8_depthwise_classifier_shapes) {
  // The depthwise layers of MobileNetV3-small x0.35 (the PaddleOCR text-direction
  // classifier: 3x3 and 5x5, strides (2,1) and 1, a few rows of 96 pixels) and of
  // ordinary MobileNets (stride 2 both ways), channel counts whose rows are not
  // whole 64-byte vectors, where paths may run a row at a time: both activation
  // types, every output kind, symmetric and asymmetric padding, rows longer than
  // a strip, and the rows split over threads; fp32 stages with and without
  // HardSwish.
  hardswish_stats() = {};
  lowbit::ThreadPool pool(3);
  const std::pair<size_t, size_t> strides[] = {{2, 1}, {1, 1}, {2, 2}};
  for (auto isa : isas_under_test()) {
    for (size_t c : {1, 3, 8, 24, 40, 48, 88, 104, 200, 260}) {
      for (size_t k : {3, 5}) {
        for (const auto& s : strides) {
          for (int o = 0; o < 5; ++o) {
            for (bool x_signed : {false, true}) {
              const size_t p = k / 2;
              ConvTester().input(1, o % 2 == 0 ? 6 : 2, c < 64 ? 96 : 23, c).m(c).groups(c).kernel(k, k)
                  .pads(p, p, p, p).strides(s.first, s.second).x_signed(x_signed).w_zero(WZero::kNone)
                  .output(static_cast<Out>(o)).out_signed(o % 2 == 1).bias(o != 0).clamp(o == 3).hardswish(x_signed)
                  .fit().test(isa);
              ConvTester().input(2, 5, 7, c).m(c).groups(c).kernel(k, k).pads(p + 1, 0, 0, p + (o & 1))
                  .strides(s.first, s.second).x_signed(x_signed).w_signed(o & 1).w_zero_point(o & 1 ? 0 : 128)
                  .values(o == 4 ? Values::kExtreme : Values::kRandom).output(static_cast<Out>(o))
                  .out_signed(x_signed).bias(true).hardswish(!x_signed).fit().test(isa);
            }
          }
          ConvTester().input(2, 9, 31, c).m(c).groups(c).kernel(k, k).pads(k / 2, k / 2, k / 2, k / 2)
              .strides(s.first, s.second).x_signed(c & 1).output(Out::kFp32PerChannel).bias(true)
              .hardswish(k == 3).pool(&pool).test(isa);
        }
      }
      RETURN_IF_FAILED();
    }
  }
  CHECK_HARDSWISH_CASES();
}

TEST(conv_s8_depthwise_hardswish) {
  // HardSwish in the depthwise output stage on every kernel a path has: the
  // per-pixel blocks with channel tails, the rows/band kernels (stride 1
  // along W, 3 and 5 columns, images of one row), the strip kernel (other
  // widths), int8-fit and widening weight layouts; per-tensor and
  // per-channel scales, with and without bias, full and narrowed ranges,
  // both activation and output types; rows split over threads.
  hardswish_stats() = {};
  lowbit::ThreadPool pool(2);
  const size_t channels[] = {1, 3, 7, 8, 16, 17, 24, 31, 33, 64, 65, 80, 144};
  for (auto isa : isas_under_test()) {
    for (size_t c : channels) {
      for (int shape = 0; shape < 5; ++shape) {
        for (int stage = 0; stage < 4; ++stage) {
          const bool s8 = stage & 1, per_channel = stage & 2;
          ConvTester t;
          switch (shape) {
            case 0: t.input(1, 1, 9, c).kernel(3, 3).pads(1, 1, 1, 1); break;                   // one row, band
            case 1: t.input(2, 6, 11, c).kernel(5, 5).pads(2, 2, 2, 2); break;                  // band, 5 columns
            case 2: t.input(1, 7, 6, c).kernel(3, 3).pads(1, 0, 1, 1).strides(2, 2); break;    // per pixel
            case 3: t.input(1, 5, 13, c).kernel(2, 4).pads(1, 2, 0, 1); break;                  // strips
            default: t.input(1, 6, 7, c).kernel(3, 3).dilations(2, 2).pads(2, 2, 2, 2); break;  // per pixel
          }
          t.m(c).groups(c).x_signed(shape & 1).out_signed(s8)
              .output(per_channel ? Out::kFp32PerChannel : Out::kFp32PerTensor).bias(stage != 1).hardswish(true);
          // Symmetric int8 weights (vpdpbusd layouts) or uint8 with zero point 0 (widening ones).
          if ((shape + stage) % 3 == 2) t.w_signed(false).w_zero_point(0);
          else t.w_signed(true).w_zero(WZero::kNone);
          if (stage == 2) t.clamp(true);                                   // ReLU-like
          if (stage == 3) t.clamp_range(s8 ? -100 : 20, s8 ? 90 : 230);    // narrowed both ends
          t.test(isa);
        }
      }
      RETURN_IF_FAILED();
    }
    ConvTester().input(1, 40, 40, 72).m(72).groups(72).kernel(3, 3).pads(1, 1, 1, 1).x_signed(true)
        .w_zero(WZero::kNone).output(Out::kFp32PerChannel).bias(true).hardswish(true).pool(&pool).test(isa);
    ConvTester().input(1, 20, 20, 120).m(120).groups(120).kernel(5, 5).pads(2, 2, 2, 2).strides(2, 2)
        .w_zero(WZero::kNone).output(Out::kFp32PerTensor).out_signed(true).hardswish(true).pool(&pool).test(isa);
    RETURN_IF_FAILED();
  }
  CHECK_HARDSWISH_CASES();
}

TEST(conv_s8_small_m_hardswish) {
  // HardSwish in the small-m output stage: m around the 4/8/16 channel
  // padding, widths around the 8/16-pixel blocks, gathered and permuted
  // blocks (strides), per-tensor and per-channel scales, with and without
  // bias, narrowed ranges, both activation and output types.
  hardswish_stats() = {};
  const size_t widths[] = {1, 7, 8, 9, 17, 33};
  for (auto isa : isas_under_test()) {
    for (size_t m : {2, 3, 4, 5, 8, 9, 16}) {
      for (size_t c : {1, 3, 4}) {
        for (int stage = 0; stage < 4; ++stage) {
          const bool s8 = stage & 1, per_channel = stage & 2;
          const size_t sw = 1 + (stage + c) % 2;
          ConvTester t;
          t.input(1 + stage % 2, 1 + (m + stage) % 5, widths[(m + c + stage) % 6], c).m(m).kernel(3, 3)
              .strides(2, sw).pads(1, 1, 1, 1).x_signed(c & 1).out_signed(s8).w_zero(WZero::kNone)
              .output(per_channel ? Out::kFp32PerChannel : Out::kFp32PerTensor).bias(stage != 2)
              .hardswish(true).expect_small_m(true).fit();
          if (stage == 1) t.clamp(true);
          if (stage == 3) t.clamp_range(s8 ? -90 : 10, s8 ? 100 : 240);
          t.test(isa);
        }
      }
      RETURN_IF_FAILED();
    }
  }
  CHECK_HARDSWISH_CASES();
}

TEST(conv_s8_gemm_all_paths) {
  // groups = 1: im2col + GEMM for k x k, strided and dilated; the direct GEMM for 1x1.
  const size_t outs[] = {1, 3, 8, 17, 64, 65};
  for (size_t c : kChannels) {
    for (size_t k : kKernels) {
      for (int rep = 0; rep < 2; ++rep) {
        ConvTester t = random_problem(c, pick(outs), 1, k);
        for (auto isa : isas_under_test()) t.test(isa);
        RETURN_IF_FAILED();
      }
    }
  }
}

TEST(conv_s8_gemm_hardswish) {
  // HardSwish through the GEMM forms of a convolution, whose output stage is
  // the GEMM path's: im2col k x k (strided), the direct 1x1 GEMM, groups (the
  // per-group slices of the stage), m past the small-m kernels; per-tensor and
  // per-channel scales, with and without bias, narrowed ranges, both
  // activation and output types, tiles split over threads.
  hardswish_stats() = {};
  lowbit::ThreadPool pool(2);
  for (auto isa : isas_under_test()) {
    for (int stage = 0; stage < 4; ++stage) {
      const bool s8 = stage & 1;
      const Out o = stage & 2 ? Out::kFp32PerChannel : Out::kFp32PerTensor;
      for (size_t m : {18, 34, 72}) {
        ConvTester t;
        t.out_signed(s8).output(o).bias(stage != 2).clamp(stage == 1).hardswish(true).w_zero(WZero::kNone)
            .x_signed(m == 34);
        ConvTester(t).input(1, 7, 9, 16).m(m).kernel(3, 3).pads(1, 1, 1, 1).strides(1 + stage % 2, 1).test(isa);
        ConvTester(t).input(2, 5, 6, 24).m(m).kernel(1, 1).test(isa);
        ConvTester(t).input(1, 6, 5, 12).m(m).groups(2).kernel(3, 3).pads(0, 1, 1, 0).w_zero(WZero::kPerChannel)
            .test(isa);
        if (stage == 3) {
          ConvTester(t).input(1, 9, 11, 3).m(m).kernel(3, 3).strides(2, 2).pads(1, 1, 1, 1)
              .clamp_range(s8 ? -100 : 15, s8 ? 110 : 245).test(isa);
        }
      }
      RETURN_IF_FAILED();
    }
    ConvTester().input(1, 28, 28, 40).m(120).kernel(1, 1).output(Out::kFp32PerChannel).bias(true)
        .hardswish(true).pool(&pool).test(isa);
    RETURN_IF_FAILED();
  }
  CHECK_HARDSWISH_CASES();
}

TEST(conv_s8_direct_1x1) {
  // 1x1, stride 1, no padding: the input rows are the GEMM's A, no copy.
  for (auto isa : isas_under_test()) {
    for (size_t c : {1, 3, 16, 65, 144}) {
      for (size_t m : {1, 8, 17, 96}) {
        for (Out o : {Out::kInt32, Out::kFp32PerChannel, Out::kFixedpointPerTensor}) {
          ConvTester().input(2, 7, 5, c).m(m).kernel(1, 1).x_signed(m & 1).w_signed(true)
              .w_zero(WZero::kPerChannel).output(o).bias(true).test(isa);
          ConvTester().input(1, 4, 4, c).m(m).kernel(1, 1).x_signed(false).w_signed(false)
              .values(Values::kAlternating).w_zero(WZero::kPerTensor).output(o).out_signed(true).test(isa);
        }
      }
      RETURN_IF_FAILED();
    }
  }
}

TEST(conv_s8_grouped) {
  // groups > 1 that are not depthwise: one GEMM per group, per-group slices of
  // per-channel zero points and output stages; depthwise with multiplier 2 too.
  struct G { size_t groups, cg, mg; };
  const G cases[] = {{2, 3, 4}, {3, 1, 2}, {4, 5, 3}, {2, 16, 16}, {8, 1, 2}, {3, 7, 1}, {16, 4, 4}};
  for (const G& g : cases) {
    for (size_t k : {1, 3, 5}) {
      for (int rep = 0; rep < 2; ++rep) {
        ConvTester t = random_problem(g.groups * g.cg, g.groups * g.mg, g.groups, k);
        for (auto isa : isas_under_test()) t.test(isa);
        RETURN_IF_FAILED();
      }
    }
  }
}

TEST(conv_s8_extreme_values_gemm) {
  for (auto isa : isas_under_test()) {
    for (int combo = 0; combo < 4; ++combo) {
      for (Values v : {Values::kExtreme, Values::kAlternating}) {
        for (Out o : {Out::kInt32, Out::kFp32PerTensor, Out::kFixedpointPerChannel}) {
          ConvTester().input(1, 7, 6, 65).m(17).kernel(3, 3).pads(1, 0, 2, 1).x_signed(combo & 1)
              .w_signed(combo & 2).values(v).w_zero(WZero::kPerChannel).output(o).test(isa);
          ConvTester().input(1, 5, 5, 12).m(6).groups(3).kernel(5, 5).pads(2, 2, 2, 2).strides(2, 2)
              .x_signed(combo & 1).w_signed(combo & 2).values(v).w_zero(WZero::kNone)
              .x_zero_point(combo & 1 ? 127 : 0).output(o).test(isa);
        }
      }
      RETURN_IF_FAILED();
    }
  }
}

TEST(conv_s8_threads_same_result) {
  // Split over a thread pool (rows of the depthwise kernel, im2col chunks,
  // GEMM tiles): the same bits as one thread.
  lowbit::ThreadPool pool(3);
  for (auto isa : isas_under_test()) {
    ConvTester().input(1, 56, 56, 144).m(144).groups(144).kernel(3, 3).pads(1, 1, 1, 1)
        .output(Out::kFp32PerChannel).bias(true).pool(&pool).test(isa);
    ConvTester().input(2, 30, 30, 64).m(64).kernel(3, 3).pads(1, 1, 1, 1).x_signed(true)
        .output(Out::kFixedpointPerChannel).bias(true).pool(&pool).test(isa);
    ConvTester().input(1, 14, 14, 96).m(576).kernel(1, 1).output(Out::kInt32).pool(&pool).test(isa);
    ConvTester().input(1, 28, 28, 32).m(64).groups(2).kernel(3, 3).strides(2, 2).pads(0, 0, 1, 1)
        .output(Out::kFp32PerTensor).pool(&pool).test(isa);
    RETURN_IF_FAILED();
  }
}

TEST(conv_s8_input_ends_at_unmapped_page) {
  // The last pixel's channel tail, the last tap of the last row, 1x1 direct
  // GEMM rows and im2col copies: nothing reads past the end of x.
  for (auto isa : isas_under_test()) {
    for (size_t c : {1, 3, 7, 17, 65, 144}) {
      for (bool x_signed : {false, true}) {
        for (WZero wz : {WZero::kNone, WZero::kPerChannel}) {  // both weight layouts
          ConvTester().input(1, 3, 5, c).m(c).groups(c).kernel(3, 3).pads(1, 1, 1, 1).x_signed(x_signed)
              .w_zero(wz).output(Out::kFp32PerChannel).guard(true).test(isa);
          ConvTester().input(1, 4, 3, c).m(c).groups(c).kernel(3, 3).pads(1, 1, 1, 1).strides(1, 2).x_signed(x_signed)
              .w_zero(wz).output(Out::kInt32).guard(true).test(isa);
        }
        ConvTester().input(2, 4, 3, c).m(c).groups(c).kernel(5, 5).pads(0, 0, 4, 4).strides(2, 1).x_signed(x_signed)
            .output(Out::kInt32).guard(true).test(isa);
        ConvTester().input(1, 3, 3, c).m(5).kernel(1, 1).x_signed(x_signed).output(Out::kFixedpointPerTensor).guard(true).test(isa);
        ConvTester().input(1, 4, 4, c).m(9).kernel(3, 3).pads(0, 0, 1, 1).x_signed(x_signed).output(Out::kInt32).guard(true).test(isa);
      }
      RETURN_IF_FAILED();
    }
  }
}

TEST(conv_s8_small_m_all_paths) {
  // Few output channels (m <= 16, one group): the vector runs over output
  // pixels. Every m, K from 1 to ~80 (kernel rows of 1 to 20 bytes: one to
  // five 4-byte groups, partial ones), strides, pads, widths around the 8/16
  // pixel blocks, batches, both activation types and extreme zero points;
  // half the fp32 stages with HardSwish.
  hardswish_stats() = {};
  auto& r = rng();
  const size_t widths[] = {1, 5, 8, 15, 16, 17, 33, 37};
  for (size_t m = 1; m <= 16; ++m) {
    for (size_t c : {1, 2, 3, 4, 5, 8}) {
      for (int rep = 0; rep < 2; ++rep) {
        const size_t kh = 1 + r() % 4, kw = 1 + r() % 3;
        const size_t sh = 1 + r() % 2, sw = 1 + r() % 2;
        ConvTester t;
        t.input(1 + r() % 2, 1 + r() % 7, pick(widths), c).m(m).kernel(kh, kw).strides(sh, sw)
            .dilations(1 + (r() % 4 == 0), 1).pads(r() % (kh + 1), r() % (kw + 1), r() % (kh + 1), r() % (kw + 1))
            .x_signed(r() & 1).values(r() % 3 == 0 ? Values::kAlternating : Values::kRandom)
            .output(static_cast<Out>(1 + r() % 4)).out_signed(r() & 1).bias(r() & 1).clamp(r() % 3 == 0)
            .hardswish(r() % 2 == 0).fit();
        // Weights whose w - zw fits int8: int8 with no or a zero zero point, uint8 around 128.
        switch (r() % 3) {
          case 0: t.w_signed(true).w_zero(WZero::kNone); break;
          case 1: t.w_signed(true).w_zero_point(0); break;
          default: t.w_signed(false).w_zero_point(128); break;
        }
        // 1x1 stride 1 unpadded runs as a direct GEMM, one channel in and out as depthwise.
        const bool direct = kh == 1 && kw == 1 && sh == 1 && sw == 1 && t.geometry_unpadded();
        if (!direct && !(c == 1 && m == 1)) t.expect_small_m(true);
        for (auto isa : isas_under_test()) t.test(isa);
        RETURN_IF_FAILED();
      }
    }
  }
  CHECK_HARDSWISH_CASES();
}

TEST(conv_s8_small_m_stem_shapes) {
  // The classifier stem (3 -> 8 channels, 3x3, stride 2, pad 1) and its
  // neighbours, at extreme values and zero points, with both output stages
  // (fp32 with and without HardSwish).
  lowbit::ThreadPool pool(3);
  for (auto isa : isas_under_test()) {
    for (Values v : {Values::kRandom, Values::kExtreme, Values::kAlternating}) {
      for (Out o : {Out::kFp32PerTensor, Out::kFp32PerChannel, Out::kFixedpointPerTensor, Out::kFixedpointPerChannel}) {
        for (bool x_signed : {false, true}) {
          const bool hs = x_signed;  // (fp32 stages only)
          ConvTester().input(1, 48, 192, 3).m(8).kernel(3, 3).strides(2, 2).pads(1, 1, 1, 1).x_signed(x_signed)
              .values(v).w_zero(WZero::kNone).output(o).bias(true).hardswish(hs).expect_small_m(true).test(isa);
          ConvTester().input(3, 9, 23, 3).m(16).kernel(3, 3).strides(2, 2).pads(1, 1, 1, 1).x_signed(x_signed)
              .values(v).w_zero(WZero::kPerChannel).w_signed(false).w_zero_point(128).output(o).out_signed(true)
              .clamp(true).hardswish(!hs).expect_small_m(true).test(isa);
          ConvTester().input(2, 31, 29, 1).m(4).kernel(5, 5).strides(1, 1).pads(2, 2, 2, 2).x_signed(x_signed)
              .values(v).w_zero_point(0).output(o).bias(true).huge_bias(true).hardswish(hs).expect_small_m(true)
              .test(isa);
        }
      }
      RETURN_IF_FAILED();
    }
    // Split over threads (past the 4M multiply-add threshold); and an input that ends at an unmapped page.
    ConvTester().input(4, 128, 192, 3).m(8).kernel(3, 3).strides(2, 2).pads(1, 1, 1, 1).w_zero(WZero::kNone)
        .output(Out::kFp32PerChannel).bias(true).pool(&pool).expect_small_m(true).test(isa);
    ConvTester().input(2, 128, 192, 3).m(16).kernel(3, 3).strides(2, 2).pads(1, 1, 1, 1).w_zero(WZero::kNone)
        .output(Out::kFp32PerTensor).bias(true).hardswish(true).pool(&pool).expect_small_m(true).test(isa);
    ConvTester().input(1, 7, 13, 3).m(8).kernel(3, 3).strides(2, 2).pads(1, 1, 1, 1).w_zero(WZero::kNone)
        .output(Out::kFixedpointPerChannel).guard(true).expect_small_m(true).test(isa);
    RETURN_IF_FAILED();
  }
}

TEST(conv_s8_small_m_takes_wide_1x1_with_few_channels) {
  // A 1x1 convolution otherwise runs as a direct GEMM; with at most 8 output
  // channels over 256 pixels or more the small-m kernels take it (the GEMM's
  // 32-wide tile would be a quarter full), otherwise the GEMM keeps it.
  lowbit::ThreadPool pool(2);
  for (auto isa : isas_under_test()) {
    for (size_t m : {1, 3, 8}) {
      for (size_t c : {2, 8, 24, 33}) {  // (one channel in and out is depthwise)
        ConvTester().input(2, 8, 16, c).m(m).kernel(1, 1).x_signed(c % 2 == 1).w_zero(WZero::kNone)
            .output(Out::kFp32PerChannel).bias(true).clamp(true).hardswish(m != 3).expect_small_m(true).test(isa);
        ConvTester().input(1, 24, 96, c).m(m).kernel(1, 1).values(Values::kExtreme).w_signed(false).w_zero_point(128)
            .output(Out::kFixedpointPerTensor).guard(true).pool(&pool).expect_small_m(true).test(isa);
      }
    }
    ConvTester().input(2, 8, 16, 24).m(16).kernel(1, 1).w_zero(WZero::kNone).output(Out::kFp32PerChannel)
        .expect_small_m(false).test(isa);
    ConvTester().input(1, 5, 7, 24).m(8).kernel(1, 1).w_zero(WZero::kNone).output(Out::kFp32PerChannel)
        .expect_small_m(false).test(isa);
    RETURN_IF_FAILED();
  }
}

TEST(conv_s8_small_m_declines) {
  // The GEMM path keeps what the small-m kernels do not take: int32 output,
  // weights whose w - zw leaves int8, dilation along W, groups, m > 16.
  for (auto isa : isas_under_test()) {
    ConvTester().input(1, 9, 11, 3).m(8).kernel(3, 3).strides(2, 2).pads(1, 1, 1, 1).w_zero(WZero::kNone)
        .output(Out::kInt32).expect_small_m(false).test(isa);
    ConvTester().input(1, 9, 11, 3).m(8).kernel(3, 3).pads(1, 1, 1, 1).w_signed(true).w_zero_point(5)
        .values(Values::kExtreme).output(Out::kFp32PerTensor).expect_small_m(false).test(isa);
    ConvTester().input(1, 9, 11, 3).m(8).kernel(3, 3).pads(1, 1, 1, 1).w_signed(false).w_zero_point(0)
        .values(Values::kRandom).output(Out::kFp32PerTensor).expect_small_m(false).test(isa);
    ConvTester().input(1, 9, 11, 3).m(8).kernel(3, 3).dilations(1, 2).w_zero(WZero::kNone)
        .output(Out::kFixedpointPerTensor).expect_small_m(false).test(isa);
    ConvTester().input(1, 9, 11, 4).m(8).groups(2).kernel(3, 3).w_zero(WZero::kNone)
        .output(Out::kFixedpointPerTensor).expect_small_m(false).test(isa);
    ConvTester().input(1, 9, 11, 3).m(17).kernel(3, 3).w_zero(WZero::kNone)
        .output(Out::kFp32PerChannel).expect_small_m(false).test(isa);
    RETURN_IF_FAILED();
  }
}

TEST(conv_s8_shapes) {
  using lowbit::Conv2dGeometry;
  CHECK_EQ(Conv2dGeometry::out_extent(56, 1, 1, 3, 1, 1), size_t{56});
  CHECK_EQ(Conv2dGeometry::out_extent(56, 1, 1, 3, 2, 1), size_t{28});
  CHECK_EQ(Conv2dGeometry::out_extent(5, 0, 0, 3, 1, 2), size_t{1});
  CHECK_EQ(Conv2dGeometry::out_extent(4, 0, 0, 3, 1, 2), size_t{0});
  CHECK_EQ(Conv2dGeometry::out_extent(1, 0, 2, 3, 1, 1), size_t{1});
  CHECK_EQ(Conv2dGeometry::out_extent(7, 2, 1, 5, 3, 1), size_t{2});
  // The dispatch table maps every ISA to a depthwise path of the right family.
  CHECK(lowbit::depthwise_path(lowbit::Isa::kRef).isa == lowbit::Isa::kRef);
#if LOWBIT_HAVE_AVX2
#if LOWBIT_HAVE_AVXVNNI
  CHECK(lowbit::depthwise_path(lowbit::Isa::kAvxVnni).isa == lowbit::Isa::kAvxVnni);
#else
  CHECK(lowbit::depthwise_path(lowbit::Isa::kAvxVnni).isa == lowbit::Isa::kAvx2);
#endif
#endif
#if LOWBIT_HAVE_AVX512VNNI
  CHECK(lowbit::depthwise_path(lowbit::Isa::kAmx).isa == lowbit::Isa::kAvx512Vnni);
  {
    // The avx512vnni path packs int8-range weights of whole 64-channel blocks
    // for its vpdpbusd kernel (layout 1) and others for its widening one
    // (layout 0); the tests above run both.
    std::vector<int8_t> w(64 * 9);
    std::vector<uint8_t> wu(64 * 9);
    for (size_t i = 0; i < w.size(); ++i) {
      w[i] = static_cast<int8_t>(i * 37);
      wu[i] = static_cast<uint8_t>(i * 37);
    }
    lowbit::PackedConvS8 a, b, c, d;
    lowbit::pack_conv_s8(lowbit::Isa::kAvx512Vnni, w.data(), true, 64, 1, 3, 3, 64, {}, &a);
    lowbit::pack_conv_s8(lowbit::Isa::kAvx512Vnni, wu.data(), false, 64, 1, 3, 3, 64, {128}, &b);
    lowbit::pack_conv_s8(lowbit::Isa::kAvx512Vnni, wu.data(), false, 64, 1, 3, 3, 64, {0}, &c);
    lowbit::pack_conv_s8(lowbit::Isa::kAvx512Vnni, w.data(), true, 32, 1, 3, 3, 32, {}, &d);
    CHECK(a.depthwise && a.dw.layout == 1);
    CHECK(b.depthwise && b.dw.layout == 1);
    CHECK(d.depthwise && d.dw.layout == 0);
    CHECK(c.depthwise && c.dw.layout == 0);
  }
#endif
#if LOWBIT_HAVE_NEON
  CHECK(lowbit::depthwise_path(lowbit::Isa::kNeonDot).isa == lowbit::Isa::kNeon);
#endif
}
