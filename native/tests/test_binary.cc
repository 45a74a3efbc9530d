// Binary kernels: the ref path against an independent integer convolution of
// +-1 values (the float model's arithmetic), and every SIMD binary path against
// ref, bit for bit: random and edge shapes (channel counts 1, 7, 63, 64, 65,
// 127, 1000; odd spatial sizes; strides 1 and 2; dilation 2; both paddings;
// all three output kinds), thread counts 1 and 3.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "lowbit/binary.h"
#include "lowbit/thread_pool.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

// The binary paths to exercise: every compiled one the CPU runs, or only the
// one serving LOWBIT_ISA.
std::vector<const BinaryPath*> paths_under_test() {
  std::vector<const BinaryPath*> out;
  const char* forced = std::getenv("LOWBIT_ISA");
  if (forced != nullptr && *forced != '\0') {
    Isa isa;
    if (parse_isa(forced, &isa) && cpu_supports(isa)) out.push_back(&binary_path_for(isa));
    return out;
  }
  for (const BinaryPath* p : binary_paths()) {
    if (p->supported()) out.push_back(p);
  }
  return out;
}

ThreadPool& pool3() {
  static ThreadPool pool(3);
  return pool;
}

std::vector<int8_t> random_signs(size_t n) {
  std::vector<int8_t> v(n);
  for (auto& x : v) x = (rng()() & 1) ? -1 : 1;
  return v;
}

// Packs +-1 values [rows][cols] into bit rows; with `garbage`, bits past cols
// are set at random (they must be ignored).
std::vector<uint64_t> pack(const std::vector<int8_t>& v, size_t rows, size_t cols, bool garbage) {
  const size_t words = bit_words(cols);
  std::vector<uint64_t> out(rows * words + 1, 0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < cols; ++i) {
      if (v[r * cols + i] < 0) out[r * words + i / 64] |= uint64_t{1} << (i % 64);
    }
    if (garbage && cols % 64 != 0) {
      const uint64_t tail = ~((uint64_t{1} << (cols % 64)) - 1);
      out[r * words + words - 1] |= (static_cast<uint64_t>(rng()()) << 32 | rng()()) & tail;
    }
  }
  return out;
}

enum class Params { kPerTensor, kPerChannel, kNegativeAlpha, kExtreme };

struct OutputSpec {
  BinaryOutputKind kind = BinaryOutputKind::kFloat32;
  Params params = Params::kPerChannel;
};

void make_output(const OutputSpec& spec, size_t n, size_t k, BinaryOutput* os) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> alpha(n), beta(n), thr(n);
  for (size_t c = 0; c < n; ++c) {
    alpha[c] = 0.01f + std::fabs(u(rng())) * 0.1f;
    beta[c] = u(rng()) * static_cast<float>(k) * 0.05f;
    thr[c] = u(rng()) * 0.5f;
    if (spec.params == Params::kNegativeAlpha && (c % 3) == 1) alpha[c] = -alpha[c];
    if (spec.params == Params::kNegativeAlpha && (c % 7) == 3) alpha[c] = 0.0f;
    if (spec.params == Params::kExtreme) {
      // Saturating int8, infinities from alpha * dot, ties at .5 after scaling.
      const float picks[] = {3.0e38f, -3.0e38f, 0.5f, -0.5f, 1.0f, 1e-30f, 0.0f};
      alpha[c] = picks[rng()() % 7];
      beta[c] = (rng()() & 1) ? 0.5f : -2.5f;
    }
  }
  const size_t count = spec.params == Params::kPerTensor ? 1 : n;
  const float y_scale = spec.params == Params::kExtreme ? 0.5f : 0.0625f;
  const int32_t y_zp = spec.params == Params::kExtreme ? -128 : static_cast<int32_t>(rng()() % 41) - 20;
  prepare_binary_output(spec.kind, n, alpha.data(), count, beta.data(), count, thr.data(), count,
                        y_scale, y_zp, os);
}

// The expected output row bytes for integer dots (the output stage's definition).
std::vector<uint8_t> expected_rows(const BinaryOutput& os, const std::vector<int32_t>& dots, size_t rows) {
  const size_t stride = binary_output_row_bytes(os.kind, os.n);
  std::vector<uint8_t> out(rows * stride, 0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < os.n; ++c) {
      binary_store_one(os, static_cast<float>(dots[r * os.n + c]), c, out.data() + r * stride);
    }
  }
  return out;
}

std::string describe_conv(const BinaryConvShape& s, size_t c, size_t n, const OutputSpec& o) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "conv N=%zu H=%zu W=%zu C=%zu Cout=%zu k=%zux%zu s=%zux%zu d=%zux%zu pads=%zu,%zu,%zu,%zu %s out=%d params=%d",
                s.batch, s.in_h, s.in_w, c, n, s.kh, s.kw, s.stride_h, s.stride_w, s.dilation_h, s.dilation_w,
                s.pad_top, s.pad_left, s.pad_bottom, s.pad_right, s.zero_padding ? "zero" : "one",
                static_cast<int>(o.kind), static_cast<int>(o.params));
  return buf;
}

bool same_bytes(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b, const std::string& what) {
  if (a.size() != b.size()) {
    record_failure(__FILE__, __LINE__, what + ": sizes differ");
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) {
      record_failure(__FILE__, __LINE__, what + ": first difference at byte " + std::to_string(i) + " (" +
                                             std::to_string(a[i]) + " vs " + std::to_string(b[i]) + ")");
      return false;
    }
  }
  return true;
}

// One convolution problem, checked on every path and thread count.
void check_conv(const BinaryConvShape& s, size_t c, size_t n, const OutputSpec& o, bool garbage = false) {
  const size_t oh = s.out_h(), ow = s.out_w();
  const size_t taps = s.kh * s.kw;
  const auto x = random_signs(s.batch * s.in_h * s.in_w * c);
  const auto w = random_signs(n * taps * c);
  // The float model: sum of x*w over taps inside the image; padded taps
  // contribute 0 (zero padding) or sum(w) (x = +1, one padding).
  std::vector<int32_t> dots(s.batch * oh * ow * n, 0);
  for (size_t b = 0; b < s.batch; ++b) {
    for (size_t oy = 0; oy < oh; ++oy) {
      for (size_t ox = 0; ox < ow; ++ox) {
        for (size_t co = 0; co < n; ++co) {
          int32_t d = 0;
          for (size_t i = 0; i < s.kh; ++i) {
            for (size_t j = 0; j < s.kw; ++j) {
              const long iy = static_cast<long>(oy * s.stride_h + i * s.dilation_h) - static_cast<long>(s.pad_top);
              const long ix = static_cast<long>(ox * s.stride_w + j * s.dilation_w) - static_cast<long>(s.pad_left);
              const bool inside = iy >= 0 && ix >= 0 && iy < static_cast<long>(s.in_h) && ix < static_cast<long>(s.in_w);
              if (!inside && s.zero_padding) continue;
              const int8_t* wr = &w[((co * s.kh + i) * s.kw + j) * c];
              const int8_t* xr = inside ? &x[((b * s.in_h + iy) * s.in_w + ix) * c] : nullptr;
              for (size_t ci = 0; ci < c; ++ci) d += (xr ? xr[ci] : 1) * wr[ci];
            }
          }
          dots[((b * oh + oy) * ow + ox) * n + co] = d;
        }
      }
    }
  }
  BinaryOutput os;
  make_output(o, n, taps * c, &os);
  const auto expected = expected_rows(os, dots, s.batch * oh * ow);
  const auto xb = pack(x, s.batch * s.in_h * s.in_w, c, garbage);
  const auto wb = pack(w, n * taps, c, garbage);
  const std::string what = describe_conv(s, c, n, o);

  std::vector<uint8_t> ref_out;
  for (const BinaryPath* path : paths_under_test()) {
    BinaryWeights packed;
    pack_binary_weights(*path, wb.data(), n, taps, c, taps * bit_words(c), &packed);
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
      // Pre-fill with a pattern: every byte of the output must be written.
      std::vector<uint8_t> got(expected.size(), 0xA5);
      binary_conv2d(packed, os, s, xb.data(), got.data(), pool);
      if (!same_bytes(got, expected, std::string(path->name) + (pool ? " 3 threads " : " ") + what)) return;
    }
  }
  (void)ref_out;
}

const size_t kChannels[] = {1, 7, 63, 64, 65, 127, 1000};

}  // namespace

TEST(binary_paths_under_test) {
  // Names the binary kernels this run exercises (LOWBIT_ISA narrows it).
  std::string names;
  for (const BinaryPath* p : paths_under_test()) names += std::string(" ") + p->name;
  std::printf("    binary kernel paths under test:%s\n", names.c_str());
  if (paths_under_test().empty()) {
    skip(std::string("LOWBIT_ISA=") + std::getenv("LOWBIT_ISA") + " is not a path this CPU runs");
    return;
  }
  for (Isa isa : isas_under_test()) CHECK(binary_path_for(isa).supported());
}

TEST(binary_conv_edge_channels) {
  // Every channel count of the issue, as input and as output channels, with
  // every output kind, both paddings, stride 1 and 2, dilation 2.
  for (size_t c : kChannels) {
    for (size_t n : {size_t{1}, size_t{7}, size_t{64}, size_t{65}, c}) {
      for (int kind = 0; kind < 3; ++kind) {
        for (int mode = 0; mode < 4; ++mode) {
          BinaryConvShape s;
          s.in_h = 5 + (mode & 1) * 2;
          s.in_w = 7;
          s.kh = s.kw = 3;
          s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
          s.stride_h = s.stride_w = (mode & 1) ? 2 : 1;
          s.dilation_h = s.dilation_w = (mode & 2) ? 2 : 1;
          if (s.dilation_h == 2) s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 2;
          s.zero_padding = (mode + kind) % 2 == 0;
          // Keep the work bounded for the big channel counts.
          if (c * n > 64 * 1000 && mode != 0) continue;
          OutputSpec o;
          o.kind = static_cast<BinaryOutputKind>(kind);
          o.params = static_cast<Params>((c + n + mode) % 3);
          check_conv(s, c, n, o);
          s.zero_padding = !s.zero_padding;
          check_conv(s, c, n, o);
          RETURN_IF_FAILED();
        }
      }
    }
  }
}

TEST(binary_conv_random_shapes) {
  auto& r = rng();
  for (int t = 0; t < 160; ++t) {
    BinaryConvShape s;
    s.batch = 1 + r() % 2;
    s.kh = 1 + r() % 7;
    s.kw = (r() % 4 == 0) ? 1 + r() % 7 : s.kh;
    s.stride_h = 1 + r() % 2;
    s.stride_w = (r() % 4 == 0) ? 1 + r() % 2 : s.stride_h;
    s.dilation_h = 1 + (r() % 3 == 0);
    s.dilation_w = (r() % 4 == 0) ? 1 + (r() % 2) : s.dilation_h;
    s.pad_top = r() % (s.kh + 1);
    s.pad_bottom = r() % 4 == 0 ? r() % (s.kh + 1) : s.pad_top;
    s.pad_left = r() % (s.kw + 1);
    s.pad_right = r() % 4 == 0 ? r() % (s.kw + 1) : s.pad_left;
    const size_t span_h = s.dilation_h * (s.kh - 1) + 1, span_w = s.dilation_w * (s.kw - 1) + 1;
    s.in_h = span_h + r() % 9;
    s.in_w = span_w + r() % 9;
    if (s.in_h % 2 == 0) s.in_h += 1;  // odd spatial sizes mostly
    s.zero_padding = r() & 1;
    const size_t c = kChannels[r() % 7] % 200 + (r() % 3 == 0 ? r() % 70 : 0);
    const size_t n = 1 + r() % 140;
    if (s.out_h() == 0 || s.out_w() == 0 || c == 0) continue;
    OutputSpec o;
    o.kind = static_cast<BinaryOutputKind>(r() % 3);
    o.params = static_cast<Params>(r() % 4);
    check_conv(s, c, n, o, (r() % 4) == 0);
    RETURN_IF_FAILED();
  }
}

TEST(binary_conv_one_by_one_and_garbage_tails) {
  // 1x1 without padding reads rows in place; pixels whose bits past the last
  // channel are set must go through the masked copy instead.
  for (size_t c : {size_t{7}, size_t{64}, size_t{65}, size_t{130}}) {
    for (size_t stride : {size_t{1}, size_t{2}}) {
      for (bool garbage : {false, true}) {
        BinaryConvShape s;
        s.batch = 2;
        s.in_h = 7;
        s.in_w = 9;
        s.stride_h = s.stride_w = stride;
        OutputSpec o;
        o.kind = static_cast<BinaryOutputKind>(c % 3);
        check_conv(s, c, 70, o, garbage);
        // 1x1 with padding: whole padded pixels.
        s.pad_top = s.pad_right = 1;
        s.zero_padding = garbage;
        check_conv(s, c, 33, o, garbage);
      }
      RETURN_IF_FAILED();
    }
  }
}

TEST(binary_conv_extreme_output_params) {
  for (int kind = 0; kind < 3; ++kind) {
    for (size_t n : {size_t{5}, size_t{64}, size_t{100}}) {
      BinaryConvShape s;
      s.in_h = 9;
      s.in_w = 5;
      s.kh = s.kw = 3;
      s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = 1;
      OutputSpec o;
      o.kind = static_cast<BinaryOutputKind>(kind);
      o.params = Params::kExtreme;
      check_conv(s, 67, n, o);
      o.params = Params::kNegativeAlpha;
      check_conv(s, 67, n, o);
    }
    RETURN_IF_FAILED();
  }
}

TEST(binary_gemm_paths) {
  // Strided A rows (a_stride > k_words), garbage tails, every edge size of K
  // and N, rows not a multiple of any tile.
  for (size_t k : {size_t{1}, size_t{7}, size_t{63}, size_t{64}, size_t{65}, size_t{127}, size_t{1000}, size_t{2304}}) {
    for (size_t n : {size_t{1}, size_t{7}, size_t{16}, size_t{63}, size_t{64}, size_t{65}, size_t{127}, size_t{200}}) {
      for (size_t m : {size_t{1}, size_t{5}, size_t{13}, size_t{49}}) {
        const bool garbage = (k + n + m) % 3 == 0;
        const auto a = random_signs(m * k);
        const auto w = random_signs(n * k);
        std::vector<int32_t> dots(m * n);
        for (size_t i = 0; i < m; ++i) {
          for (size_t c = 0; c < n; ++c) {
            int32_t d = 0;
            for (size_t j = 0; j < k; ++j) d += a[i * k + j] * w[c * k + j];
            dots[i * n + c] = d;
          }
        }
        const auto ab = pack(a, m, k, garbage);
        const size_t kw = bit_words(k), stride = kw + (m % 2);
        std::vector<uint64_t> strided(m * stride + 1, ~uint64_t{0});
        for (size_t i = 0; i < m; ++i) std::memcpy(&strided[i * stride], &ab[i * kw], kw * 8);
        const auto wb = pack(w, n, k, garbage);
        OutputSpec o;
        o.kind = static_cast<BinaryOutputKind>((k + n) % 3);
        o.params = static_cast<Params>((m + n) % 4);
        BinaryOutput os;
        make_output(o, n, k, &os);
        const auto expected = expected_rows(os, dots, m);
        for (const BinaryPath* path : paths_under_test()) {
          BinaryWeights packed;
          pack_binary_weights(*path, wb.data(), n, 1, k, kw, &packed);
          for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
            std::vector<uint8_t> got(expected.size(), 0x5A);
            binary_gemm(packed, os, m, strided.data(), stride, got.data(), pool);
            if (!same_bytes(got, expected, std::string(path->name) + " gemm m=" + std::to_string(m) +
                                               " n=" + std::to_string(n) + " k=" + std::to_string(k))) return;
          }
        }
      }
    }
  }
}

TEST(binary_bitpack_paths) {
  // Signs of floats (with -0, NaN, infinities, denormals) and of int8 values,
  // every column count around the vector widths.
  const float specials[] = {0.0f, -0.0f, std::numeric_limits<float>::quiet_NaN(),
                            -std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::denorm_min(), 1.0f, -1.0f};
  for (size_t cols : {size_t{1}, size_t{7}, size_t{8}, size_t{15}, size_t{16}, size_t{31}, size_t{32}, size_t{33},
                      size_t{63}, size_t{64}, size_t{65}, size_t{127}, size_t{200}, size_t{1000}}) {
    const size_t rows = 3;
    std::vector<float> xf(rows * cols);
    std::vector<int8_t> xs(rows * cols);
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    for (size_t i = 0; i < xf.size(); ++i) {
      xf[i] = (rng()() % 4 == 0) ? specials[rng()() % 10] : u(rng());
      xs[i] = static_cast<int8_t>(rng()() & 0xFF);
    }
    const size_t words = bit_words(cols);
    std::vector<uint64_t> want_f(rows * words), want_s(rows * words);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t i = 0; i < cols; ++i) {
        if (std::signbit(xf[r * cols + i]) && !std::isnan(xf[r * cols + i]) && xf[r * cols + i] != 0.0f) {
          want_f[r * words + i / 64] |= uint64_t{1} << (i % 64);
        }
        if (xs[r * cols + i] < 0) want_s[r * words + i / 64] |= uint64_t{1} << (i % 64);
      }
    }
    for (const BinaryPath* path : paths_under_test()) {
      std::vector<uint64_t> got(rows * words, ~uint64_t{0});
      bitpack_f32(*path, xf.data(), rows, cols, got.data(), nullptr);
      for (size_t i = 0; i < got.size(); ++i) CHECK_EQ(got[i], want_f[i]);
      std::fill(got.begin(), got.end(), ~uint64_t{0});
      bitpack_s8(*path, xs.data(), rows, cols, got.data(), &pool3());
      for (size_t i = 0; i < got.size(); ++i) CHECK_EQ(got[i], want_s[i]);
      RETURN_IF_FAILED();
    }
    std::vector<float> back(rows * cols);
    ref::bitunpack_f32(want_f.data(), rows, cols, back.data());
    for (size_t i = 0; i < back.size(); ++i) CHECK_EQ(back[i], xf[i] < 0.0f ? -1.0f : 1.0f);
  }
}

namespace {

// BinaryConnect: float activations summed in k order, int8/uint8 exactly.
void check_binary_weight_gemm(size_t m, size_t n, size_t k, BinaryActivation type, const OutputSpec& o,
                              bool specials) {
  const auto w = random_signs(n * k);
  std::vector<float> af(m * k);
  std::vector<uint8_t> a8(m * k);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  for (size_t i = 0; i < m * k; ++i) {
    af[i] = u(rng());
    if (specials && rng()() % 50 == 0) {
      const float s[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -0.0f, 1e-40f};
      af[i] = s[rng()() % 4];
    }
    a8[i] = static_cast<uint8_t>(rng()());
  }
  const int32_t zp = type == BinaryActivation::kUint8 ? static_cast<int32_t>(rng()() % 256)
                                                      : static_cast<int32_t>(rng()() % 256) - 128;
  BinaryOutput os;
  make_output(o, n, k, &os);
  const size_t stride = binary_output_row_bytes(os.kind, n);
  std::vector<uint8_t> expected(m * stride, 0);
  for (size_t i = 0; i < m; ++i) {
    for (size_t c = 0; c < n; ++c) {
      float x;
      if (type == BinaryActivation::kFloat32) {
        float acc = 0.0f;
        for (size_t j = 0; j < k; ++j) acc = acc + (w[c * k + j] < 0 ? -af[i * k + j] : af[i * k + j]);
        x = acc;
      } else {
        int32_t acc = 0;
        for (size_t j = 0; j < k; ++j) {
          const int32_t av = type == BinaryActivation::kInt8 ? static_cast<int8_t>(a8[i * k + j]) : a8[i * k + j];
          acc += (av - zp) * w[c * k + j];
        }
        x = static_cast<float>(acc);
      }
      binary_store_one(os, x, c, expected.data() + i * stride);
    }
  }
  const auto wb = pack(w, n, k, false);
  const void* a = type == BinaryActivation::kFloat32 ? static_cast<const void*>(af.data()) : a8.data();
  for (const BinaryPath* path : paths_under_test()) {
    BinaryWeightMatrix packed;
    pack_binary_weight_matrix(*path, wb.data(), n, k, &packed);
    // The int8 GEMM path of the same ISA family as the binary path.
    std::vector<const GemmPath*> gemms = {gemm_path(Isa::kRef)};
    for (Isa isa : isas_under_test()) {
      if (&binary_path_for(isa) == path && gemm_path(isa) != nullptr) gemms.push_back(gemm_path(isa));
    }
    for (const GemmPath* g : gemms) {
      for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
        std::vector<uint8_t> got(expected.size(), 0x3C);
        binary_weight_gemm(packed, os, *g, m, a, type, zp, got.data(), pool);
        if (!same_bytes(got, expected, std::string(path->name) + "/" + isa_name(g->isa) + " binaryconnect m=" +
                                           std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k) +
                                           " type=" + std::to_string(static_cast<int>(type)))) return;
      }
    }
  }
}

}  // namespace

TEST(binary_weight_gemm_paths) {
  for (size_t n : {size_t{1}, size_t{7}, size_t{16}, size_t{17}, size_t{64}, size_t{65}, size_t{127}}) {
    for (size_t k : {size_t{1}, size_t{7}, size_t{64}, size_t{65}, size_t{300}}) {
      for (int type = 0; type < 3; ++type) {
        OutputSpec o;
        o.kind = static_cast<BinaryOutputKind>((n + k + type) % 3);
        o.params = static_cast<Params>((n + type) % 4);
        check_binary_weight_gemm(1 + (n + k) % 11, n, k, static_cast<BinaryActivation>(type), o, type == 0 && k > 60);
        RETURN_IF_FAILED();
      }
    }
  }
  OutputSpec o;
  o.kind = BinaryOutputKind::kInt8;
  check_binary_weight_gemm(37, 1000, 129, BinaryActivation::kFloat32, o, true);
  check_binary_weight_gemm(37, 1000, 129, BinaryActivation::kUint8, o, false);
}

TEST(binary_output_stage_definition) {
  // Spot checks of the definition itself.
  BinaryOutput os;
  const float alpha[] = {0.5f, -1.0f}, beta[] = {0.25f, 0.0f}, thr[] = {0.0f, -3.0f};
  prepare_binary_output(BinaryOutputKind::kFloat32, 2, alpha, 2, beta, 2, thr, 2, 0.5f, 3, &os);
  CHECK_EQ(binary_value(os, 3.0f, 0), 1.75f);
  CHECK_EQ(binary_value(os, 3.0f, 1), -3.0f);
  CHECK_EQ(static_cast<int>(binary_quantize(os, 1.25f)), 5);   // 2.5 -> 2 (half to even) + 3
  CHECK_EQ(static_cast<int>(binary_quantize(os, 1.75f)), 7);   // 3.5 -> 4 + 3
  CHECK_EQ(static_cast<int>(binary_quantize(os, 1e30f)), 127);
  CHECK_EQ(static_cast<int>(binary_quantize(os, -1e30f)), -128);
  CHECK_EQ(static_cast<int>(binary_quantize(os, std::numeric_limits<float>::quiet_NaN())), 3);
  os.kind = BinaryOutputKind::kBits;
  uint8_t row[8] = {0xFF, 0xFF};
  binary_store_one(os, -1.0f, 0, row);  // -0.25 < 0 -> 1
  binary_store_one(os, 3.0f, 1, row);   // -3 < -3 is false -> 0
  CHECK_EQ(static_cast<int>(row[0] & 3), 1);
}
