// Pooling: every SIMD path against ref bit for bit (NHWC row kernels), and
// ref's NHWC driver against its NCHW driver on the transposed input (two
// different walks of the same definition), over channels 1..65, odd sizes,
// kernels 1..5, strides 1..3, dilation 2, asymmetric pads, count_include_pad,
// ceil-mode output sizes, float32 / uint8 / int8, NaN inputs; global pools.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "harness.h"
#include "lowbit/pool.h"
#include "lowbit/thread_pool.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

ThreadPool& pool3() {
  static ThreadPool pool(3);
  return pool;
}

template <typename T>
bool same(T a, T b) {
  if constexpr (std::is_same_v<T, float>) {
    if (a != a && b != b) return true;
    return std::memcmp(&a, &b, sizeof(float)) == 0;
  }
  return a == b;
}

template <typename T>
std::vector<T> random_values(size_t n) {
  std::vector<T> v(n);
  for (auto& x : v) {
    if constexpr (std::is_same_v<T, float>) {
      x = std::uniform_real_distribution<float>(-10.0f, 10.0f)(rng());
      if (rng()() % 97 == 0) x = std::numeric_limits<float>::quiet_NaN();
    } else {
      x = static_cast<T>(rng()());
    }
  }
  return v;
}

// [n, c, s] <-> [n, s, c]
template <typename T>
std::vector<T> to_nhwc(const std::vector<T>& x, size_t n, size_t c, size_t s) {
  std::vector<T> y(x.size());
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < c; ++j)
      for (size_t k = 0; k < s; ++k) y[(i * s + k) * c + j] = x[(i * c + j) * s + k];
  return y;
}

size_t out_size(size_t in, size_t k, size_t s, size_t d, size_t pb, size_t pe, bool ceil_mode) {
  const size_t span = (k - 1) * d + 1;
  if (in + pb + pe < span) return 0;
  const size_t num = in + pb + pe - span;
  size_t out = (ceil_mode ? (num + s - 1) / s : num / s) + 1;
  // A window must start inside the input or the begin padding.
  if (ceil_mode && (out - 1) * s >= in + pb) --out;
  return out;
}

template <typename T>
void check_case(PoolKind kind, ElementType type, const Pool2dParams& p, const std::string& what) {
  const auto x = random_values<T>(p.n * p.c * p.h * p.w);
  const auto x_nhwc = to_nhwc(x, p.n, p.c, p.h * p.w);
  const size_t count = p.n * p.c * p.oh * p.ow;
  std::vector<T> want_nchw(count), want(count);
  pool2d(ref::kPoolPath, kind, Layout::kNchw, type, p, x.data(), want_nchw.data(), nullptr);
  pool2d(ref::kPoolPath, kind, Layout::kNhwc, type, p, x_nhwc.data(), want.data(), nullptr);
  const auto want_from_nchw = to_nhwc(want_nchw, p.n, p.c, p.oh * p.ow);
  for (size_t i = 0; i < count; ++i) {
    if (!same(want[i], want_from_nchw[i])) {
      record_failure(__FILE__, __LINE__, what + ": NHWC and NCHW disagree at " + std::to_string(i));
      return;
    }
  }
  for (Isa isa : isas_under_test()) {
    for (ThreadPool* tp : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
      std::vector<T> got(count);
      pool2d(pool_path(isa), kind, Layout::kNhwc, type, p, x_nhwc.data(), got.data(), tp);
      for (size_t i = 0; i < count; ++i) {
        if (!same(got[i], want[i])) {
          record_failure(__FILE__, __LINE__, what + " " + isa_name(isa) + ": element " + std::to_string(i));
          return;
        }
      }
    }
  }
}

}  // namespace

TEST(pool2d_paths_match_ref_and_layouts_agree) {
  size_t cases = 0;
  for (size_t c : {1, 3, 8, 17, 64, 65}) {
    for (size_t hw : {1, 5, 12}) {
      for (size_t k : {1, 2, 3, 5}) {
        for (size_t s : {1, 2, 3}) {
          for (size_t d : {1, 2}) {
            for (int variant = 0; variant < 3; ++variant) {
              Pool2dParams p;
              p.n = 2;
              p.c = c;
              p.h = hw;
              p.w = hw + 2;
              p.kh = k;
              p.kw = k == 5 ? 3 : k;
              p.sh = s;
              p.sw = s == 3 ? 1 : s;
              p.dh = d;
              p.dw = 1;
              const size_t pad = k / 2;
              p.pad_top = variant == 1 ? pad : 0;
              p.pad_left = variant >= 1 ? pad : 0;
              p.pad_bottom = variant == 2 ? pad : 0;
              p.pad_right = variant == 1 ? (pad > 0 ? pad - 1 : 0) : pad;
              p.count_include_pad = variant == 2;
              const bool ceil_mode = variant == 1;
              p.oh = out_size(p.h, p.kh, p.sh, p.dh, p.pad_top, p.pad_bottom, ceil_mode);
              p.ow = out_size(p.w, p.kw, p.sw, p.dw, p.pad_left, p.pad_right, ceil_mode);
              if (p.oh == 0 || p.ow == 0) continue;
              const std::string what = "c=" + std::to_string(c) + " hw=" + std::to_string(hw) + " k=" +
                                       std::to_string(k) + " s=" + std::to_string(s) + " d=" + std::to_string(d) +
                                       " v=" + std::to_string(variant);
              check_case<float>(PoolKind::kMax, ElementType::kFloat32, p, "max f32 " + what);
              check_case<float>(PoolKind::kAverage, ElementType::kFloat32, p, "avg f32 " + what);
              check_case<uint8_t>(PoolKind::kMax, ElementType::kUint8, p, "max u8 " + what);
              check_case<int8_t>(PoolKind::kMax, ElementType::kInt8, p, "max s8 " + what);
              RETURN_IF_FAILED();
              ++cases;
            }
          }
        }
      }
    }
  }
  CHECK(cases > 300);
}

TEST(pool2d_average_divisor_rules) {
  // 1 x 1 x 3 x 3 of ones, kernel 3, pads 1: count_include_pad = 0 -> all 1;
  // = 1 -> corner 4/9, edge 6/9, centre 1.
  Pool2dParams p;
  p.n = p.c = 1;
  p.h = p.w = 3;
  p.kh = p.kw = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.oh = p.ow = 3;
  std::vector<float> x(9, 1.0f), y(9);
  pool2d(ref::kPoolPath, PoolKind::kAverage, Layout::kNchw, ElementType::kFloat32, p, x.data(), y.data(), nullptr);
  for (float v : y) CHECK(v == 1.0f);
  p.count_include_pad = true;
  pool2d(ref::kPoolPath, PoolKind::kAverage, Layout::kNchw, ElementType::kFloat32, p, x.data(), y.data(), nullptr);
  CHECK(y[0] == 4.0f / 9.0f);
  CHECK(y[1] == 6.0f / 9.0f);
  CHECK(y[4] == 1.0f);
  // Ceil mode: 4 wide, kernel 3, stride 2, no pads -> 2 outputs; the second
  // window covers x = 2, 3 (and a 5th position past the end that is not counted).
  Pool2dParams q;
  q.n = q.c = 1;
  q.h = 1;
  q.w = 4;
  q.kh = 1;
  q.kw = 3;
  q.sw = 2;
  q.oh = 1;
  q.ow = 2;
  q.count_include_pad = true;
  const float xs[] = {1, 2, 3, 4};
  float ys[2];
  pool2d(ref::kPoolPath, PoolKind::kAverage, Layout::kNchw, ElementType::kFloat32, q, xs, ys, nullptr);
  CHECK(ys[0] == 2.0f);
  CHECK(ys[1] == 3.5f);
}

TEST(global_pool_paths_match_ref) {
  for (size_t c : {1, 3, 16, 65, 130}) {
    for (size_t spatial : {1, 7, 49, 200, 2500}) {
      const size_t n = 2;
      const auto x = random_values<float>(n * c * spatial);
      const auto xn = to_nhwc(x, n, c, spatial);
      const auto xb = random_values<uint8_t>(n * c * spatial);
      const auto xbn = to_nhwc(xb, n, c, spatial);
      for (PoolKind kind : {PoolKind::kMax, PoolKind::kAverage}) {
        std::vector<float> want(n * c), want_nhwc(n * c);
        global_pool(ref::kPoolPath, kind, Layout::kNchw, ElementType::kFloat32, n, c, spatial, x.data(), want.data(),
                    nullptr);
        global_pool(ref::kPoolPath, kind, Layout::kNhwc, ElementType::kFloat32, n, c, spatial, xn.data(),
                    want_nhwc.data(), nullptr);
        for (size_t i = 0; i < n * c; ++i) CHECK(same(want[i], want_nhwc[i]));
        for (Isa isa : isas_under_test()) {
          std::vector<float> got(n * c);
          global_pool(pool_path(isa), kind, Layout::kNhwc, ElementType::kFloat32, n, c, spatial, xn.data(),
                      got.data(), &pool3());
          for (size_t i = 0; i < n * c; ++i) CHECK(same(got[i], want[i]));
        }
      }
      std::vector<uint8_t> bw(n * c), bg(n * c);
      global_pool(ref::kPoolPath, PoolKind::kMax, Layout::kNchw, ElementType::kUint8, n, c, spatial, xb.data(),
                  bw.data(), nullptr);
      for (Isa isa : isas_under_test()) {
        global_pool(pool_path(isa), PoolKind::kMax, Layout::kNhwc, ElementType::kUint8, n, c, spatial, xbn.data(),
                    bg.data(), nullptr);
        CHECK(bw == bg);
      }
      RETURN_IF_FAILED();
    }
  }
}
