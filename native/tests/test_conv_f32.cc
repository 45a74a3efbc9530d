// fp32 GEMM, Conv and ConvTranspose: every fp32 path (ref, and each SIMD path
// this CPU runs) against the ground truth (ref::gemm_f32, ref::conv2d_f32,
// ref::conv_transpose2d_f32 over unpacked weights) on random data and edge
// shapes: channel counts 1, 3, 7, 8, 16, 17, 64, 65; odd spatial sizes incl. 1;
// kernels 1, 3, 5, 7; strides 1, 2; dilations 1, 2; asymmetric pads; groups 1,
// 2 and depthwise; every activation. Tolerance: |y - y_ref| <= 2e-5 * S + 1e-6,
// where S is the same sum over |x|, |w|, |bias| (sum_k |a*b| bounds the rounding
// of any summation order; 2x the 1e-5 target covers hardswish's slope of 1.5).
// Results at 1 and 3 threads must be bit-identical. Outputs sit between guard
// values that must survive.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "harness.h"
#include "lowbit/conv_f32.h"
#include "lowbit/gemm_f32.h"
#include "lowbit/thread_pool.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

constexpr float kGuard = 12345.5f;
constexpr size_t kGuardCount = 37;

// The fp32 paths to exercise: every compiled one the CPU runs, or only the one
// serving LOWBIT_ISA.
std::vector<const F32Path*> paths_under_test() {
  std::vector<const F32Path*> out;
  const char* forced = std::getenv("LOWBIT_ISA");
  if (forced != nullptr && *forced != '\0') {
    Isa isa;
    if (parse_isa(forced, &isa) && cpu_supports(isa)) out.push_back(&f32_path_for(isa));
    return out;
  }
  for (const F32Path* p : f32_paths()) {
    if (p->supported()) out.push_back(p);
  }
  return out;
}

ThreadPool& pool3() {
  static ThreadPool pool(3);
  return pool;
}

std::vector<float> random_floats(size_t n, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng());
  return v;
}

std::vector<float> abs_of(const std::vector<float>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = std::fabs(v[i]);
  return out;
}

// An output buffer with guard values on both sides.
struct Guarded {
  std::vector<float> buf;
  size_t n;
  explicit Guarded(size_t count) : buf(count + 2 * kGuardCount, kGuard), n(count) {}
  float* data() { return buf.data() + kGuardCount; }
  bool guards_intact() const {
    for (size_t i = 0; i < kGuardCount; ++i) {
      if (buf[i] != kGuard || buf[kGuardCount + n + i] != kGuard) return false;
    }
    return true;
  }
};

std::vector<F32Epilogue> all_epilogues() {
  std::vector<F32Epilogue> out(6);
  out[1].kind = F32Activation::kClip;  // relu
  out[1].min = 0.0f;
  out[2].kind = F32Activation::kClip;  // a narrow clip, so both bounds bite
  out[2].min = -0.25f;
  out[2].max = 0.5f;
  out[3].kind = F32Activation::kHardSwish;
  out[4].kind = F32Activation::kHardSigmoid;
  out[4].alpha = 0.2f;
  out[4].beta = 0.5f;
  out[5].kind = F32Activation::kHardSigmoid;  // steep, to reach both clamps
  out[5].alpha = 1.7f;
  out[5].beta = 0.1f;
  return out;
}

const char* activation_name(const F32Epilogue& e) {
  switch (e.kind) {
    case F32Activation::kNone: return "none";
    case F32Activation::kClip: return "clip";
    case F32Activation::kHardSwish: return "hardswish";
    case F32Activation::kHardSigmoid: return "hardsigmoid";
  }
  return "?";
}

// Compares against the ground truth with the magnitude-scaled tolerance;
// reports the first few mismatches. Returns false on any.
bool close(const float* got, const std::vector<float>& want, const std::vector<float>& mag, const std::string& what) {
  size_t bad = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const float tol = 2e-5f * mag[i] + 1e-6f;
    if (!(std::fabs(got[i] - want[i]) <= tol)) {
      if (++bad <= 3) {
        record_failure(__FILE__, __LINE__, what + ": [" + std::to_string(i) + "] got " + std::to_string(got[i]) +
                                               " want " + std::to_string(want[i]) + " (tol " + std::to_string(tol) + ")");
      }
    }
  }
  return bad == 0;
}

std::string describe(const Conv2dParams& p, const F32Epilogue& e) {
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "n%zu h%zu w%zu c%zu m%zu k%zux%zu g%zu pads(%zu,%zu,%zu,%zu) s(%zu,%zu) d(%zu,%zu) op(%zu,%zu) %s",
                p.n, p.h, p.w, p.c, p.m, p.kh, p.kw, p.groups, p.pad_top, p.pad_left, p.pad_bottom, p.pad_right,
                p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.out_pad_h, p.out_pad_w, activation_name(e));
  return buf;
}

// ---------------------------------------------------------------- GEMM

void check_gemm(size_t m, size_t n, size_t k, bool transposed, bool with_bias, const F32Epilogue& e) {
  const std::vector<float> a = random_floats(m * k);
  const std::vector<float> b = random_floats(k * n);  // [k][n], or [n][k] when transposed
  const std::vector<float> bias = random_floats(n);
  // Ground truth on a row-major [k][n] copy.
  std::vector<float> b_kn(k * n);
  for (size_t x = 0; x < k; ++x) {
    for (size_t j = 0; j < n; ++j) b_kn[x * n + j] = transposed ? b[j * k + x] : b[x * n + j];
  }
  std::vector<float> want(m * n), mag(m * n);
  ref::gemm_f32(m, n, k, a.data(), k, b_kn.data(), n, with_bias ? bias.data() : nullptr, e, want.data(), n);
  ref::gemm_f32(m, n, k, abs_of(a).data(), k, abs_of(b_kn).data(), n, with_bias ? abs_of(bias).data() : nullptr,
                F32Epilogue{}, mag.data(), n);
  for (const F32Path* path : paths_under_test()) {
    PackedF32Matrix packed;
    pack_f32_matrix(*path, b.data(), k, n, transposed ? 1 : n, transposed ? k : 1, with_bias ? bias.data() : nullptr,
                    &packed);
    std::vector<float> first;
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
      // A with a row stride past K, C with a row stride past N.
      const size_t a_stride = k + 3, c_stride = n + 5;
      std::vector<float> a_strided(m * a_stride, std::numeric_limits<float>::quiet_NaN());
      for (size_t i = 0; i < m; ++i) std::memcpy(&a_strided[i * a_stride], &a[i * k], k * sizeof(float));
      Guarded c(m * c_stride);
      F32GemmArgs args;
      args.m = m;
      args.a = a_strided.data();
      args.a_stride = a_stride;
      args.b = &packed;
      args.c = c.data();
      args.c_stride = c_stride;
      args.epilogue = e;
      gemm_f32(*path, args, pool);
      std::vector<float> got(m * n);
      for (size_t i = 0; i < m; ++i) {
        std::memcpy(&got[i * n], c.data() + i * c_stride, n * sizeof(float));
        for (size_t j = n; j < c_stride && i + 1 < m; ++j) {
          if (c.data()[i * c_stride + j] != kGuard) {
            record_failure(__FILE__, __LINE__, "gemm wrote between rows");
            return;
          }
        }
      }
      const std::string what = std::string(path->name) + " gemm m" + std::to_string(m) + " n" + std::to_string(n) +
                               " k" + std::to_string(k) + (transposed ? " bT" : "") + (with_bias ? " bias " : " ") +
                               activation_name(e) + (pool ? " 3 threads" : "");
      if (!c.guards_intact()) record_failure(__FILE__, __LINE__, what + ": wrote outside C");
      if (!close(got.data(), want, mag, what)) return;
      if (first.empty()) {
        first = got;
      } else if (std::memcmp(first.data(), got.data(), got.size() * sizeof(float)) != 0) {
        record_failure(__FILE__, __LINE__, what + ": differs from the 1-thread result");
      }
    }
  }
}

TEST(f32_gemm_edges) {
  const auto epilogues = all_epilogues();
  size_t i = 0;
  for (size_t m : {1, 2, 5, 8, 9, 17, 33}) {
    for (size_t n : {1, 3, 8, 15, 16, 17, 31, 32, 33, 48, 65}) {
      for (size_t k : {1, 2, 7, 16, 33}) {
        check_gemm(m, n, k, (i % 3) == 1, (i % 2) == 0, epilogues[i % epilogues.size()]);
        ++i;
        RETURN_IF_FAILED();
      }
    }
  }
}

TEST(f32_gemm_larger_and_threads) {
  // Big enough to be split over the pool, along M and (few rows) along N.
  check_gemm(300, 200, 257, false, true, F32Epilogue{});
  check_gemm(4, 1000, 300, true, true, all_epilogues()[3]);
  check_gemm(1000, 40, 100, false, false, all_epilogues()[1]);
  check_gemm(1, 200, 2, false, false, F32Epilogue{});  // the classifier's final MatMul
}

// ---------------------------------------------------------------- Conv

void check_conv(const Conv2dParams& p, bool with_bias, const F32Epilogue& e) {
  const size_t cg = p.c / p.groups;
  const std::vector<float> x = random_floats(p.n * p.h * p.w * p.c);
  const std::vector<float> w = random_floats(p.m * cg * p.kh * p.kw);
  const std::vector<float> bias = random_floats(p.m);
  const size_t oh = conv_out_extent(p.h, p.kh, p.pad_top, p.pad_bottom, p.stride_h, p.dilation_h);
  const size_t ow = conv_out_extent(p.w, p.kw, p.pad_left, p.pad_right, p.stride_w, p.dilation_w);
  const size_t count = p.n * oh * ow * p.m;
  std::vector<float> want(count), mag(count);
  ref::conv2d_f32(p, x.data(), w.data(), with_bias ? bias.data() : nullptr, e, want.data());
  ref::conv2d_f32(p, abs_of(x).data(), abs_of(w).data(), with_bias ? abs_of(bias).data() : nullptr, F32Epilogue{},
                  mag.data());
  for (const F32Path* path : paths_under_test()) {
    PackedConvF32 packed;
    pack_conv2d_f32(*path, w.data(), with_bias ? bias.data() : nullptr, p.m, cg, p.kh, p.kw, p.groups, &packed);
    ConvF32Plan plan;
    plan_conv2d_f32(packed, p, &plan);
    CHECK_EQ(plan.out_h, oh);
    CHECK_EQ(plan.out_w, ow);
    std::vector<float> first;
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
      Guarded y(count);
      conv2d_f32(packed, plan, x.data(), y.data(), e, pool);
      const std::string what = std::string(path->name) + " conv " + describe(p, e) + (with_bias ? " bias" : "") +
                               (packed.depthwise ? " [dw]" : "") + (pool ? " 3 threads" : "");
      if (!y.guards_intact()) record_failure(__FILE__, __LINE__, what + ": wrote outside the output");
      if (!close(y.data(), want, mag, what)) return;
      std::vector<float> got(y.data(), y.data() + count);
      if (first.empty()) {
        first = got;
      } else if (std::memcmp(first.data(), got.data(), count * sizeof(float)) != 0) {
        record_failure(__FILE__, __LINE__, what + ": differs from the 1-thread result");
      }
    }
  }
}

size_t pick(std::initializer_list<size_t> v) {
  return *(v.begin() + std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng()));
}

TEST(f32_conv_depthwise_edges) {
  const auto epilogues = all_epilogues();
  size_t i = 0;
  for (size_t c : {1, 3, 7, 8, 16, 17, 64, 65}) {
    for (size_t k : {1, 3, 5, 7}) {
      for (size_t stride : {1, 2}) {
        for (size_t dilation : {1, 2}) {
          Conv2dParams p;
          p.n = 1 + (i % 3 == 0);
          p.h = pick({1, 3, 5, 9, 13});
          p.w = pick({1, 3, 7, 11, 19});
          p.c = p.m = p.groups = c;
          p.kh = p.kw = k;
          if (i % 5 == 4) p.kw = pick({1, 3, 5});  // non-square
          p.stride_h = stride;
          p.stride_w = i % 4 == 3 ? 1 : stride;  // (2, 1), as in the classifier
          p.dilation_h = p.dilation_w = dilation;
          const size_t span_h = (p.kh - 1) * dilation, span_w = (p.kw - 1) * dilation;
          p.pad_top = pick({0, 1, 2}) % (span_h + 1);
          p.pad_bottom = pick({0, 1, 2, 3}) % (span_h + 1);
          p.pad_left = pick({0, 1, 2}) % (span_w + 1);
          p.pad_right = pick({0, 1, 3}) % (span_w + 1);
          // Keep the padded input at least one dilated filter tall and wide.
          while (p.h + p.pad_top + p.pad_bottom < span_h + 1) ++p.pad_bottom;
          while (p.w + p.pad_left + p.pad_right < span_w + 1) ++p.pad_right;
          check_conv(p, i % 2 == 0, epilogues[i % epilogues.size()]);
          ++i;
          RETURN_IF_FAILED();
        }
      }
    }
  }
}

TEST(f32_conv_depthwise_large) {
  // Wide rows: the padded scratch holds only a few rows, so output rows go in
  // several tiles; and enough work to be split over the pool at 3 threads.
  const auto epilogues = all_epilogues();
  struct L { size_t n, h, w, c, k, sh, sw, d, pad; };
  const L layers[] = {
      {1, 23, 700, 20, 5, 1, 1, 1, 2},  // tiles of a few rows, 20 = 16 + 4 channels
      {2, 31, 450, 24, 3, 2, 2, 2, 2},  // stride 2, dilation 2, 16 + 8 channels
      {1, 40, 999, 8, 7, 1, 2, 1, 3},   // 7x7, a 256-bit-only channel count on avx512
      {1, 56, 56, 144, 3, 1, 1, 1, 1},  // MobileNet-sized, split over threads
  };
  size_t i = 0;
  for (const L& l : layers) {
    Conv2dParams p;
    p.n = l.n;
    p.h = l.h;
    p.w = l.w;
    p.c = p.m = p.groups = l.c;
    p.kh = p.kw = l.k;
    p.stride_h = l.sh;
    p.stride_w = l.sw;
    p.dilation_h = p.dilation_w = l.d;
    p.pad_top = p.pad_left = l.pad;
    p.pad_bottom = p.pad_right = l.pad > 0 ? l.pad - 1 : 0;
    check_conv(p, true, epilogues[i++ % epilogues.size()]);
    RETURN_IF_FAILED();
  }
}

TEST(f32_conv_general_edges) {
  const auto epilogues = all_epilogues();
  size_t i = 0;
  for (size_t c : {1, 3, 7, 8, 16, 17, 64, 65}) {
    for (size_t m : {1, 3, 7, 8, 16, 17, 64, 65}) {
      Conv2dParams p;
      p.n = 1 + (i % 4 == 0);
      p.h = pick({1, 3, 5, 7});
      p.w = pick({1, 5, 9, 11});
      p.c = c;
      p.m = m;
      p.groups = (c % 2 == 0 && m % 2 == 0 && i % 2 == 0) ? 2 : 1;
      p.kh = p.kw = pick({1, 3, 5, 7});
      if (i % 7 == 3) p.kw = pick({1, 3});
      p.stride_h = pick({1, 2});
      p.stride_w = pick({1, 2});
      p.dilation_h = p.dilation_w = pick({1, 1, 2});
      const size_t span_h = (p.kh - 1) * p.dilation_h, span_w = (p.kw - 1) * p.dilation_w;
      p.pad_top = pick({0, 1, 2, 3}) % (span_h + 1);
      p.pad_bottom = pick({0, 1, 2}) % (span_h + 1);
      p.pad_left = pick({0, 2, 3}) % (span_w + 1);
      p.pad_right = pick({0, 1}) % (span_w + 1);
      while (p.h + p.pad_top + p.pad_bottom < span_h + 1) ++p.pad_bottom;
      while (p.w + p.pad_left + p.pad_right < span_w + 1) ++p.pad_right;
      check_conv(p, i % 3 != 0, epilogues[i % epilogues.size()]);
      ++i;
      RETURN_IF_FAILED();
    }
  }
}

TEST(f32_conv_pointwise_and_grouped) {
  const auto epilogues = all_epilogues();
  size_t i = 0;
  // 1x1 stride 1 unpadded (one GEMM over pixels), strided or padded 1x1 (igemm), groups.
  for (size_t c : {1, 8, 17, 64}) {
    for (size_t m : {3, 16, 65}) {
      for (size_t variant = 0; variant < 3; ++variant) {
        Conv2dParams p;
        p.n = 2;
        p.h = 7;
        p.w = 5;
        p.c = c;
        p.m = m;
        if (variant == 1) p.stride_h = p.stride_w = 2;
        if (variant == 2) p.pad_top = p.pad_right = 1;
        check_conv(p, true, epilogues[i++ % epilogues.size()]);
        RETURN_IF_FAILED();
      }
    }
  }
  // groups 4 (not depthwise), a multiplier-2 "depthwise" (groups = c, m = 2c), groups 2 with 1x1.
  Conv2dParams p;
  p.h = 9;
  p.w = 7;
  p.c = 16;
  p.m = 24;
  p.groups = 4;
  p.kh = p.kw = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  check_conv(p, true, epilogues[3]);
  p.c = 8;
  p.m = 16;
  p.groups = 8;
  check_conv(p, false, epilogues[1]);
  p.kh = p.kw = 1;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 0;
  p.c = 16;
  p.m = 34;
  p.groups = 2;
  check_conv(p, true, epilogues[4]);
}

TEST(f32_conv_classifier_layers) {
  // Layers of the PaddleOCR text-direction classifier (NHWC here), at 3 threads too.
  struct L { size_t h, w, c, m, k, sh, sw, groups, pad; };
  const L layers[] = {
      {48, 192, 3, 8, 3, 2, 2, 1, 1},      // stem
      {24, 96, 8, 8, 1, 1, 1, 1, 0},       // 1x1
      {24, 96, 8, 8, 3, 2, 1, 8, 1},       // depthwise 3x3 s(2,1)
      {6, 96, 32, 32, 3, 1, 1, 32, 1},     // depthwise 3x3
      {6, 96, 32, 32, 5, 2, 1, 32, 2},     // depthwise 5x5 s(2,1)
      {3, 96, 88, 88, 5, 1, 1, 88, 2},     // depthwise 5x5
      {2, 96, 200, 200, 5, 1, 1, 200, 2},  // depthwise 5x5, 200 channels
      {2, 96, 32, 200, 1, 1, 1, 1, 0},     // 1x1 32 -> 200
      {2, 96, 200, 32, 1, 1, 1, 1, 0},     // 1x1 200 -> 32
      {1, 1, 200, 50, 1, 1, 1, 1, 0},      // squeeze-excite
  };
  const auto epilogues = all_epilogues();
  size_t i = 0;
  for (const L& l : layers) {
    Conv2dParams p;
    p.h = l.h;
    p.w = l.w;
    p.c = l.c;
    p.m = l.m;
    p.kh = p.kw = l.k;
    p.stride_h = l.sh;
    p.stride_w = l.sw;
    p.groups = l.groups;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = l.pad;
    check_conv(p, true, epilogues[i++ % epilogues.size()]);
    RETURN_IF_FAILED();
  }
}

// ---------------------------------------------------------------- ConvTranspose

void check_conv_transpose(const Conv2dParams& p, bool with_bias, const F32Epilogue& e) {
  const size_t cg = p.c / p.groups, mg = p.m / p.groups;
  const std::vector<float> x = random_floats(p.n * p.h * p.w * p.c);
  const std::vector<float> w = random_floats(p.c * mg * p.kh * p.kw);
  const std::vector<float> bias = random_floats(p.m);
  (void)cg;
  const size_t oh = conv_transpose_out_extent(p.h, p.kh, p.pad_top, p.pad_bottom, p.stride_h, p.dilation_h, p.out_pad_h);
  const size_t ow = conv_transpose_out_extent(p.w, p.kw, p.pad_left, p.pad_right, p.stride_w, p.dilation_w, p.out_pad_w);
  const size_t count = p.n * oh * ow * p.m;
  std::vector<float> want(count), mag(count);
  ref::conv_transpose2d_f32(p, x.data(), w.data(), with_bias ? bias.data() : nullptr, e, want.data());
  ref::conv_transpose2d_f32(p, abs_of(x).data(), abs_of(w).data(), with_bias ? abs_of(bias).data() : nullptr,
                            F32Epilogue{}, mag.data());
  for (const F32Path* path : paths_under_test()) {
    PackedConvTransposeF32 packed;
    pack_conv_transpose2d_f32(*path, w.data(), with_bias ? bias.data() : nullptr, p.c, mg, p.kh, p.kw, p.groups,
                              &packed);
    std::vector<float> first;
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
      Guarded y(count);
      conv_transpose2d_f32(packed, p, x.data(), y.data(), e, pool);
      const std::string what = std::string(path->name) + " convTranspose " + describe(p, e) +
                               (with_bias ? " bias" : "") + (pool ? " 3 threads" : "");
      if (!y.guards_intact()) record_failure(__FILE__, __LINE__, what + ": wrote outside the output");
      if (!close(y.data(), want, mag, what)) return;
      std::vector<float> got(y.data(), y.data() + count);
      if (first.empty()) {
        first = got;
      } else if (std::memcmp(first.data(), got.data(), count * sizeof(float)) != 0) {
        record_failure(__FILE__, __LINE__, what + ": differs from the 1-thread result");
      }
    }
  }
}

TEST(f32_conv_transpose_edges) {
  const auto epilogues = all_epilogues();
  size_t i = 0;
  for (size_t c : {1, 3, 8, 17}) {
    for (size_t m : {1, 7, 16, 65}) {
      for (size_t variant = 0; variant < 3; ++variant) {
        Conv2dParams p;
        p.n = 1 + (i % 3 == 0);
        p.h = pick({1, 3, 5});
        p.w = pick({1, 4, 7});
        p.c = c;
        p.m = m;
        p.groups = (variant == 2 && c % 2 == 0 && m % 2 == 0) ? 2 : 1;
        p.kh = pick({1, 2, 3, 4, 5});
        p.kw = pick({1, 3, 5});
        p.stride_h = pick({1, 2, 3});
        p.stride_w = pick({1, 2});
        p.dilation_h = p.dilation_w = variant == 1 ? 2 : 1;
        p.out_pad_h = std::uniform_int_distribution<size_t>(0, std::max(p.stride_h, p.dilation_h) - 1)(rng());
        p.out_pad_w = std::uniform_int_distribution<size_t>(0, std::max(p.stride_w, p.dilation_w) - 1)(rng());
        p.pad_top = pick({0, 1, 2}) % p.kh;
        p.pad_bottom = pick({0, 1}) % p.kh;
        p.pad_left = pick({0, 1, 2}) % p.kw;
        p.pad_right = pick({0, 2}) % p.kw;
        if (conv_transpose_out_extent(p.h, p.kh, p.pad_top, p.pad_bottom, p.stride_h, p.dilation_h, p.out_pad_h) == 0 ||
            conv_transpose_out_extent(p.w, p.kw, p.pad_left, p.pad_right, p.stride_w, p.dilation_w, p.out_pad_w) == 0) {
          p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 0;
        }
        check_conv_transpose(p, i % 2 == 0, epilogues[i % epilogues.size()]);
        ++i;
        RETURN_IF_FAILED();
      }
    }
  }
  // Big enough for the column buffer to be filled in several runs, at 3 threads.
  Conv2dParams p;
  p.h = 40;
  p.w = 41;
  p.c = 32;
  p.m = 96;
  p.kh = p.kw = 4;
  p.stride_h = p.stride_w = 2;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  check_conv_transpose(p, true, epilogues[1]);
}

TEST(f32_paths_table) {
  // Every path a kernel path maps to runs on this CPU; ref is always there.
  CHECK(std::string(f32_ref_path().name) == "ref");
  for (int i = 0; i < static_cast<int>(Isa::kCount); ++i) {
    const F32Path& p = f32_path_for(static_cast<Isa>(i));
    CHECK(p.supported());
    CHECK(p.nr % 2 == 0 && p.mr > 0 && p.cb > 0);
  }
}

}  // namespace
