// int4 weight-only GEMM: every int4 path (ref, and each SIMD path this CPU runs)
// bit for bit against the definition (ref::int4_gemm_unpacked over int8 weights)
// on random data and edge shapes: M 1, 2, 3, 7, 17; N 1, 15, 16, 17, 33, 100;
// K 1, 31, 32, 33, 64, 127, 128, 129, 300; per-channel scales and blocks of 32,
// 64, 128; with and without bias; no clamp, relu, a narrow clamp; weights that
// include -8 and 7. Results at 1 and 3 threads and over any split of rows and
// tiles must be bit-identical. The definition itself is checked against a
// double-precision sum within the rounding bound of its fp32 summation. NaN and
// infinities in x give the same bits on every path. Also:
// packing from int8 values and from ONNX int4 bytes ([N, K] and [K, N]) gives
// the same packed matrix, which is 4 bits per weight.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "harness.h"
#include "lowbit/int4_gemm.h"
#include "lowbit/thread_pool.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

constexpr float kGuard = 12345.5f;
constexpr size_t kGuardCount = 19;

// The int4 paths to exercise: every compiled one the CPU runs, or only the one
// serving LOWBIT_ISA.
std::vector<const Int4Path*> paths_under_test() {
  std::vector<const Int4Path*> out;
  const char* forced = std::getenv("LOWBIT_ISA");
  if (forced != nullptr && *forced != '\0') {
    Isa isa;
    if (parse_isa(forced, &isa) && cpu_supports(isa)) out.push_back(&int4_path_for(isa));
    return out;
  }
  for (const Int4Path* p : int4_paths()) {
    if (p->supported()) out.push_back(p);
  }
  return out;
}

ThreadPool& pool3() {
  static ThreadPool pool(3);
  return pool;
}

std::vector<float> random_floats(size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng());
  return v;
}

// Values in [-8, 7], with -8 and 7 at random places of every row (when K > 1).
std::vector<int8_t> random_weights(size_t n, size_t k) {
  std::uniform_int_distribution<int> u(-8, 7);
  std::uniform_int_distribution<size_t> at(0, k - 1);
  std::vector<int8_t> w(n * k);
  for (auto& v : w) v = static_cast<int8_t>(u(rng()));
  for (size_t j = 0; j < n; ++j) {
    w[j * k + at(rng())] = -8;
    w[j * k + at(rng())] = 7;
  }
  return w;
}

size_t block_count(size_t k, size_t block) { return (k + (block == 0 ? k : block) - 1) / (block == 0 ? k : block); }

struct Clamp {
  float lo, hi;
  const char* name;
};
const Clamp kClamps[] = {{-std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(), "none"},
                         {0.0f, std::numeric_limits<float>::infinity(), "relu"},
                         {-0.05f, 0.08f, "clip"}};

// y for rows [0, m) of a packed matrix through `path`, rows at stride n + 3 with
// guards around the whole output; checks the guards and the gaps between rows.
std::vector<float> run(const Int4Path& path, const PackedInt4Matrix& w, const std::vector<float>& x, size_t m,
                       const Clamp& c, ThreadPool* pool, const std::string& what) {
  const size_t n = w.n, stride = n + 3;
  std::vector<float> buf(m * stride + 2 * kGuardCount, kGuard);
  Int4GemmArgs args;
  args.m = m;
  args.x = x.data();
  args.x_stride = w.k;
  args.w = &w;
  args.y = buf.data() + kGuardCount;
  args.y_stride = stride;
  args.clamp_min = c.lo;
  args.clamp_max = c.hi;
  int4_gemm(path, args, pool);
  std::vector<float> y(m * n);
  bool stray = false;
  for (size_t i = 0; i < m; ++i) {
    std::memcpy(&y[i * n], args.y + i * stride, n * sizeof(float));
    for (size_t j = n; j < stride; ++j) stray |= args.y[i * stride + j] != kGuard;
  }
  for (size_t i = 0; i < kGuardCount; ++i) stray |= buf[i] != kGuard || buf[buf.size() - 1 - i] != kGuard;
  if (stray) record_failure(__FILE__, __LINE__, what + ": wrote outside its outputs");
  return y;
}

bool same_bits(const std::vector<float>& got, const std::vector<float>& want, size_t n, const std::string& what) {
  if (std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0) return true;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
      record_failure(__FILE__, __LINE__, what + ": y[" + std::to_string(i / n) + "][" + std::to_string(i % n) +
                                             "] = " + std::to_string(got[i]) + ", ref " + std::to_string(want[i]));
      break;
    }
  }
  return false;
}

std::string describe(size_t m, size_t n, size_t k, size_t block, bool bias, const Clamp& c) {
  return "m" + std::to_string(m) + " n" + std::to_string(n) + " k" + std::to_string(k) + " block " +
         (block == 0 ? std::string("channel") : std::to_string(block)) + (bias ? " bias " : " ") + c.name;
}

// One shape: definition, then every path at 1 and 3 threads, bit for bit.
void check_shape(size_t m, size_t n, size_t k, size_t block, bool with_bias, const Clamp& c) {
  const std::vector<float> x = random_floats(m * k, -1.0f, 1.0f);
  const std::vector<int8_t> w = random_weights(n, k);
  const std::vector<float> scales = random_floats(n * block_count(k, block), 0.001f, 0.05f);
  const std::vector<float> bias = random_floats(n, -0.1f, 0.1f);
  std::vector<float> want(m * n);
  ref::int4_gemm_unpacked(m, n, k, x.data(), w.data(), scales.data(), block, with_bias ? bias.data() : nullptr, c.lo,
                          c.hi, want.data());
  Int4Source src;
  src.values = w.data();
  src.scales = scales.data();
  src.bias = with_bias ? bias.data() : nullptr;
  PackedInt4Matrix packed;
  pack_int4_matrix(src, n, k, block, &packed);
  const std::string shape = describe(m, n, k, block, with_bias, c);
  for (const Int4Path* path : paths_under_test()) {
    for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
      const std::string what = std::string(path->name) + " " + shape + (pool ? " 3 threads" : "");
      if (!same_bits(run(*path, packed, x, m, c, pool, what), want, n, what)) return;
    }
  }
}

TEST(int4_gemm_paths_match_ref_on_edge_shapes) {
  size_t i = 0;
  for (size_t m : {1, 2, 3, 7, 17}) {
    for (size_t n : {1, 15, 16, 17, 33, 100}) {
      for (size_t k : {1, 31, 32, 33, 64, 127, 128, 129, 300}) {
        for (size_t block : {0, 32, 64, 128}) {
          check_shape(m, n, k, block, i % 2 == 0, kClamps[i % 3]);
          ++i;
          RETURN_IF_FAILED();
        }
      }
    }
  }
}

// Shapes big enough for int4_gemm to split over the pool (M x N x K >= 2^20),
// and the kernels called directly over uneven splits of rows and tiles: every
// split gives the 1-thread bits.
TEST(int4_gemm_split_independent) {
  const size_t shapes[][4] = {{1, 1000, 1100, 64}, {9, 300, 400, 32}, {33, 130, 257, 0}, {64, 64, 300, 128}};
  for (const auto& s : shapes) {
    const size_t m = s[0], n = s[1], k = s[2], block = s[3];
    const std::vector<float> x = random_floats(m * k, -2.0f, 2.0f);
    const std::vector<int8_t> w = random_weights(n, k);
    const std::vector<float> scales = random_floats(n * block_count(k, block), 0.001f, 0.05f);
    const std::vector<float> bias = random_floats(n, -0.1f, 0.1f);
    std::vector<float> want(m * n);
    ref::int4_gemm_unpacked(m, n, k, x.data(), w.data(), scales.data(), block, bias.data(), kClamps[0].lo,
                            kClamps[0].hi, want.data());
    Int4Source src;
    src.values = w.data();
    src.scales = scales.data();
    src.bias = bias.data();
    PackedInt4Matrix packed;
    pack_int4_matrix(src, n, k, block, &packed);
    const std::string shape = describe(m, n, k, block, true, kClamps[0]);
    for (const Int4Path* path : paths_under_test()) {
      for (ThreadPool* pool : {static_cast<ThreadPool*>(nullptr), &pool3()}) {
        const std::string what = std::string(path->name) + " " + shape + (pool ? " 3 threads" : "");
        if (!same_bits(run(*path, packed, x, m, kClamps[0], pool, what), want, n, what)) return;
      }
      // Rows in pieces of 1, 2, 3, ... and tiles in pieces of 1, 2, 3, ...
      std::vector<float> y(m * n, kGuard);
      Int4GemmArgs args;
      args.x = x.data();
      args.x_stride = k;
      args.w = &packed;
      args.y = y.data();
      args.y_stride = n;
      args.m = m;
      size_t rows = 1;
      for (size_t m0 = 0; m0 < m; m0 += rows++) {
        size_t tiles = 1;
        for (size_t t0 = 0; t0 < packed.tiles(); t0 += tiles++) {
          path->gemm(args, m0, std::min(m, m0 + rows), t0, std::min(packed.tiles(), t0 + tiles));
        }
      }
      if (!same_bits(y, want, n, std::string(path->name) + " " + shape + " uneven splits")) return;
    }
  }
}

// The fp32 definition against a double-precision sum. Each output is K fmas in
// blocks, one fma per block and one add, each rounding by at most 2^-24 of the
// partial result, so the error is within (K + blocks + 2) * 2^-24 * S with S =
// sum_b |scale| * sum_k |x * w| + |bias|.
TEST(int4_gemm_ref_vs_double) {
  for (size_t k : {1, 33, 128, 300, 1000}) {
    for (size_t block : {0, 32, 128}) {
      const size_t m = 3, n = 21, blocks = block_count(k, block), bk = block == 0 ? k : block;
      const std::vector<float> x = random_floats(m * k, -3.0f, 3.0f);
      const std::vector<int8_t> w = random_weights(n, k);
      const std::vector<float> scales = random_floats(n * blocks, 0.001f, 0.2f);
      const std::vector<float> bias = random_floats(n, -1.0f, 1.0f);
      std::vector<float> y(m * n);
      ref::int4_gemm_unpacked(m, n, k, x.data(), w.data(), scales.data(), block, bias.data(),
                              -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity(),
                              y.data());
      double worst = 0.0;
      for (size_t i = 0; i < m; ++i) {
        for (size_t j = 0; j < n; ++j) {
          double exact = bias[j], mag = std::fabs(bias[j]);
          for (size_t b = 0; b < blocks; ++b) {
            double s = 0.0, s_mag = 0.0;
            for (size_t kk = b * bk; kk < std::min(k, (b + 1) * bk); ++kk) {
              s += static_cast<double>(x[i * k + kk]) * w[j * k + kk];
              s_mag += std::fabs(static_cast<double>(x[i * k + kk]) * w[j * k + kk]);
            }
            exact += s * scales[j * blocks + b];
            mag += s_mag * scales[j * blocks + b];
          }
          const double err = std::fabs(y[i * n + j] - exact);
          const double bound = static_cast<double>(k + blocks + 2) * std::ldexp(1.0, -24) * mag;
          worst = std::max(worst, mag > 0 ? err / mag : 0.0);
          if (!(err <= bound)) {
            record_failure(__FILE__, __LINE__, "k" + std::to_string(k) + " block " + std::to_string(block) + ": y = " +
                                                   std::to_string(y[i * n + j]) + ", exact " + std::to_string(exact));
            return;
          }
        }
      }
      // Not vacuous: the fp32 result does round (relative error seen > 0 for big K).
      if (k >= 300) CHECK(worst > 0.0);
    }
  }
}

// Extremes: every weight -8 or every weight 7, large activations, a clamp that
// binds on both sides; still bit-identical on every path.
TEST(int4_gemm_extreme_weights) {
  for (int value : {-8, 7}) {
    const size_t m = 5, n = 35, k = 129, block = 64;
    const std::vector<float> x = random_floats(m * k, -1000.0f, 1000.0f);
    const std::vector<int8_t> w(n * k, static_cast<int8_t>(value));
    const std::vector<float> scales = random_floats(n * block_count(k, block), 0.5f, 2.0f);
    std::vector<float> want(m * n);
    const Clamp c{-20000.0f, 15000.0f, "clip"};
    ref::int4_gemm_unpacked(m, n, k, x.data(), w.data(), scales.data(), block, nullptr, c.lo, c.hi, want.data());
    Int4Source src;
    src.values = w.data();
    src.scales = scales.data();
    PackedInt4Matrix packed;
    pack_int4_matrix(src, n, k, block, &packed);
    for (size_t j = 0; j < n; ++j) CHECK_EQ(int4_packed_weight(packed, j, k - 1), value);
    for (const Int4Path* path : paths_under_test()) {
      const std::string what = std::string(path->name) + " all weights " + std::to_string(value);
      if (!same_bits(run(*path, packed, x, m, c, nullptr, what), want, n, what)) return;
    }
  }
}

// Packing from int8 values, from ONNX int4 bytes [N, K], and from ONNX int4
// bytes [K, N] (scales [blocks, N]) gives the same bytes; 4 bits per weight.
TEST(int4_pack_sources_agree) {
  for (size_t k : {1, 7, 64, 129}) {
    for (size_t n : {1, 16, 19}) {
      const size_t block = k >= 64 ? 32 : 0, blocks = block_count(k, block);
      const std::vector<int8_t> w = random_weights(n, k);  // [n][k]
      const std::vector<float> scales = random_floats(n * blocks, 0.01f, 1.0f);
      std::vector<uint8_t> onnx_nk((n * k + 1) / 2, 0), onnx_kn((n * k + 1) / 2, 0);
      std::vector<float> scales_bn(blocks * n);
      auto put = [](std::vector<uint8_t>& bytes, size_t i, int v) {
        const uint8_t nib = static_cast<uint8_t>(v) & 0x0F;
        bytes[i / 2] |= static_cast<uint8_t>(i % 2 == 0 ? nib : nib << 4);
      };
      for (size_t j = 0; j < n; ++j) {
        for (size_t x = 0; x < k; ++x) {
          put(onnx_nk, j * k + x, w[j * k + x]);
          put(onnx_kn, x * n + j, w[j * k + x]);
        }
        for (size_t b = 0; b < blocks; ++b) scales_bn[b * n + j] = scales[j * blocks + b];
      }
      PackedInt4Matrix from_values, from_nk, from_kn;
      Int4Source s;
      s.values = w.data();
      s.scales = scales.data();
      pack_int4_matrix(s, n, k, block, &from_values);
      s.values = nullptr;
      s.onnx_packed = onnx_nk.data();
      pack_int4_matrix(s, n, k, block, &from_nk);
      s.onnx_packed = onnx_kn.data();
      s.k_major = true;
      s.scales = scales_bn.data();
      pack_int4_matrix(s, n, k, block, &from_kn);
      const size_t tiles = (n + 15) / 16;
      CHECK_EQ(from_values.weights.size(), tiles * 16 * ((k + 1) / 2));
      for (const PackedInt4Matrix* p : {&from_nk, &from_kn}) {
        CHECK(p->weights.size() == from_values.weights.size());
        CHECK(std::memcmp(p->weights.data(), from_values.weights.data(), p->weights.size()) == 0);
        CHECK(p->scales.size() == from_values.scales.size());
        CHECK(std::memcmp(p->scales.data(), from_values.scales.data(), p->scales.size()) == 0);
      }
      for (size_t j = 0; j < n; ++j) {
        for (size_t x = 0; x < k; ++x) CHECK_EQ(int4_packed_weight(from_kn, j, x), static_cast<int>(w[j * k + x]));
      }
      RETURN_IF_FAILED();
    }
  }
}

}  // namespace

namespace {

// NaN and infinities in x reach the output the same way on every path: the
// NaN's payload, inf * 0 (the CPU's default NaN), inf - inf, and the clamp
// letting NaN through (as the scalar x < lo ? lo : ...). One NaN per row, so no
// path depends on which of two NaNs an instruction keeps.
TEST(int4_gemm_nan_and_inf_match_ref) {
  const size_t m = 4, n = 37, k = 70, block = 32;
  std::vector<float> x = random_floats(m * k, -1.0f, 1.0f);
  const uint32_t payload = 0x7fc12345u;
  std::memcpy(&x[5], &payload, sizeof payload);              // row 0: a NaN with a payload
  x[k + 3] = std::numeric_limits<float>::infinity();         // row 1: +inf (x 0 weights: NaN)
  x[2 * k + 1] = -std::numeric_limits<float>::infinity();    // row 2: -inf and +inf
  x[2 * k + 40] = std::numeric_limits<float>::infinity();
  std::vector<int8_t> w = random_weights(n, k);
  for (size_t j = 0; j < n; j += 3) w[j * k + 3] = 0;        // some inf * 0
  const std::vector<float> scales = random_floats(n * block_count(k, block), 0.01f, 0.1f);
  for (const Clamp& c : kClamps) {
    std::vector<float> want(m * n);
    ref::int4_gemm_unpacked(m, n, k, x.data(), w.data(), scales.data(), block, nullptr, c.lo, c.hi, want.data());
    bool has_nan = false;
    for (float v : want) has_nan |= std::isnan(v);
    CHECK(has_nan);
    Int4Source src;
    src.values = w.data();
    src.scales = scales.data();
    PackedInt4Matrix packed;
    pack_int4_matrix(src, n, k, block, &packed);
    for (const Int4Path* path : paths_under_test()) {
      const std::string what = std::string(path->name) + " nan/inf " + c.name;
      if (!same_bits(run(*path, packed, x, m, c, nullptr, what), want, n, what)) return;
    }
  }
}

}  // namespace
