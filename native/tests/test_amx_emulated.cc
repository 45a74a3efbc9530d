// The AMX path's kernels compiled a second time, on the software model of the
// tiles in amx-tile-ops.h (LOWBIT_AMX_EMULATE), and checked bit for bit against
// ref/. The model follows the hardware's rules (tile shapes, rows x colsb bytes
// read, nothing more), so this checks the tiling, the M/N/K tails, the row and
// column splits and the AVX-512 output stage on any CPU with AVX512-VNNI, with or
// without AMX. Where the CPU has AMX, the real path is run on the same guard-page
// case too. The generic test_gemm_paths covers the real path against ref.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gemm_tester.h"
#include "harness.h"
#include "lowbit/fixedpoint.h"
#include "lowbit/gemm.h"
#include "lowbit/pack.h"
#include "lowbit/requantize.h"

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__) && !defined(__clang__)
#define LOWBIT_TEST_AMX_EMULATED 1
#endif

#if LOWBIT_TEST_AMX_EMULATED
// Only the kernels get AVX-512 code; the cases below check the CPU before calling them.
#define LOWBIT_AMX_EMULATE 1
#define LOWBIT_AMX_NAMESPACE amx_emulated
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#include "../kernels/x86/amx/gemm-path-amx.cc"
#include "../kernels/x86/amx/qu8s8-gemm-32x32-amx.cc"
#include "../kernels/x86/amx/qu8s8-gemm-4x64-avx512vnni.cc"
#pragma GCC pop_options

using namespace lowbit_test;
using lowbit::GemmArgs;
using lowbit::GemmPath;
using lowbit::PackedMatrix;
using lowbit::Requantization;
using lowbit::RequantMode;

namespace {

bool cpu_runs_kernels() {
  const auto& f = lowbit::cpu_features();
  return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
}

struct Problem {
  size_t m = 1, n = 1, k = 1, a_stride_pad = 0;
  bool a_signed = false, b_signed = true;
  int data = 0;        // 0 random, 1 extreme (A max, B min), 2 alternating extremes
  int zero_points = 1; // 0 none, 1 per tensor, 2 per column
  int output = 0;      // 0 int32, 1 fp32/tensor, 2 fp32/channel, 3 fixedpoint/tensor, 4 fixedpoint/channel
  bool out_signed = false, bias = false;
  bool hardswish = false;  // fp32 outputs: a HardSwish stage (gemm_tester.h's make_hardswish_stage)

  std::string describe() const {
    return "m=" + std::to_string(m) + " n=" + std::to_string(n) + " k=" + std::to_string(k) +
           (a_signed ? " A=s8" : " A=u8") + (b_signed ? " B=s8" : " B=u8") + " data=" + std::to_string(data) +
           " zp=" + std::to_string(zero_points) + " out=" + std::to_string(output) +
           (out_signed ? "->s8" : "->u8") + (bias ? " bias" : "") + (hardswish ? " hardswish" : "") +
           " pad=" + std::to_string(a_stride_pad);
  }
};

void fill(std::vector<uint8_t>& v, bool is_signed, int data, bool is_a) {
  std::uniform_int_distribution<int> byte(0, 255), coin(0, 1);
  const uint8_t lo = is_signed ? 0x80 : 0x00, hi = is_signed ? 0x7F : 0xFF;
  for (auto& x : v) {
    x = data == 0 ? static_cast<uint8_t>(byte(rng())) : data == 1 ? (is_a ? hi : lo) : (coin(rng()) ? hi : lo);
  }
}

int32_t random_zero_point(bool is_signed) {
  std::uniform_int_distribution<int> d(is_signed ? -128 : 0, is_signed ? 127 : 255);
  return d(rng());
}

// Runs `path` on the problem, whole and over uneven row / column splits; A is
// placed so that its last byte is the last byte before an inaccessible page.
bool check(const GemmPath& path, const char* name, const Problem& p) {
  const size_t a_stride = p.k + p.a_stride_pad;
  const size_t a_bytes = (p.m - 1) * a_stride + p.k;  // the last row ends at K, not at the stride
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t map_bytes = (a_bytes + page - 1) / page * page + page;
  auto* map = static_cast<uint8_t*>(mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  CHECK(map != MAP_FAILED);
  if (map == MAP_FAILED) return false;
  mprotect(map + map_bytes - page, page, PROT_NONE);
  uint8_t* a = map + map_bytes - page - a_bytes;

  std::vector<uint8_t> a_vals(a_bytes), b(p.k * p.n);
  fill(a_vals, p.a_signed, p.data, true);
  fill(b, p.b_signed, p.data, false);
  std::memcpy(a, a_vals.data(), a_bytes);

  int32_t a_zp = 0;
  std::vector<int32_t> b_zp;
  if (p.zero_points != 0) {
    a_zp = random_zero_point(p.a_signed);
    for (size_t j = 0; j < (p.zero_points == 2 ? p.n : 1); ++j) b_zp.push_back(random_zero_point(p.b_signed));
  }

  Requantization rq;
  const bool requant = p.output != 0;
  if (requant) {
    const bool per_channel = p.output == 2 || p.output == 4;
    rq.mode = p.output <= 2 ? RequantMode::kFp32 : RequantMode::kFixedpoint;
    std::uniform_real_distribution<float> scale_dist(0.25f, 4.0f);
    const float typical = 1.0f / (64.0f * static_cast<float>(p.k));
    for (size_t j = 0; j < (per_channel ? p.n : 1); ++j) {
      const float s = typical * scale_dist(rng()) * ((j % 4 == 3) ? 64.0f : 1.0f);
      if (rq.mode == RequantMode::kFp32) {
        rq.scale.push_back(s);
      } else {
        int32_t mult;
        int shift;
        lowbit::fixedpoint::quantize_multiplier(s, &mult, &shift);
        rq.multiplier.push_back(mult);
        rq.shift.push_back(shift);
      }
    }
    if (p.bias) {
      std::uniform_int_distribution<int32_t> bd(-100000, 100000);
      for (size_t j = 0; j < p.n; ++j) rq.bias.push_back(bd(rng()));
    }
    rq.out_signed = p.out_signed;
    rq.zero_point = random_zero_point(p.out_signed);
    rq.qmin = p.out_signed ? -128 : 0;
    rq.qmax = p.out_signed ? 127 : 255;
    if (rng()() % 3 == 0) {
      if (p.hardswish && rq.mode == RequantMode::kFp32) {
        // HardSwish goes down to -3/8 of a unit: keep a few steps below the zero point.
        rq.qmin = std::max(rq.qmin, rq.zero_point - 1 - static_cast<int32_t>(rng()() % 40));
      } else {
        rq.qmin = rq.zero_point > rq.qmin + 10 ? rq.zero_point : rq.qmin;
      }
      rq.qmax -= 20;
    }
  }

  std::vector<int32_t> acc(p.m * p.n);
  lowbit::ref::gemm_s32(p.m, p.n, p.k, a, p.a_signed, a_stride, a_zp, b.data(), p.b_signed, p.n, b_zp.data(),
                        b_zp.size(), acc.data(), p.n);
  if (p.hardswish && requant && rq.mode == RequantMode::kFp32) {
    make_hardswish_stage(&rq, acc.data(), p.m, p.n, rq.scale.size());
    tally_hardswish(rq, acc.data(), p.m, p.n);
  }
  const size_t out_bytes = requant ? 1 : 4;
  std::vector<uint8_t> expected(p.m * p.n * out_bytes);
  if (requant) {
    lowbit::ref::requantize(rq, acc.data(), p.m, p.n, 1, expected.data());
  } else {
    std::memcpy(expected.data(), acc.data(), expected.size());
  }

  PackedMatrix packed;
  lowbit::pack_matrix(path, b.data(), p.b_signed, p.k, p.n, p.n, b_zp, &packed);
  GemmArgs args;
  args.m = p.m;
  args.a = a;
  args.a_stride = a_stride;
  args.a_signed = p.a_signed;
  args.a_zero_point = a_zp;
  args.b = &packed;
  args.rq = requant ? &rq : nullptr;
  args.c_stride = p.n;

  bool ok = true;
  std::vector<uint8_t> got(expected.size());
  auto compare = [&](const char* how) {
    for (size_t at = 0; at < p.m * p.n && ok; ++at) {
      if (std::memcmp(&got[at * out_bytes], &expected[at * out_bytes], out_bytes) != 0) {
        record_failure(__FILE__, __LINE__, std::string(name) + " " + how + " " + p.describe() + ": C[" +
                                               std::to_string(at / p.n) + "][" + std::to_string(at % p.n) + "] differs");
        ok = false;
      }
    }
  };
  std::fill(got.begin(), got.end(), 0xCD);
  args.c = got.data();
  path.run(args, 0, p.m, 0, p.n);
  compare("whole");

  // Splits as a thread pool makes them: rows anywhere, columns at multiples of nr.
  std::fill(got.begin(), got.end(), 0xCD);
  const size_t m_cuts[4] = {0, p.m / 3, p.m / 3 + (p.m - p.m / 3) / 2, p.m};
  const size_t n_mid = (p.n / 2) / path.nr * path.nr;
  const size_t n_cuts[3] = {0, n_mid, p.n};
  for (int mi = 0; mi < 3; ++mi)
    for (int ni = 0; ni < 2; ++ni)
      if (m_cuts[mi] < m_cuts[mi + 1] && n_cuts[ni] < n_cuts[ni + 1])
        path.run(args, m_cuts[mi], m_cuts[mi + 1], n_cuts[ni], n_cuts[ni + 1]);
  compare("split");

  munmap(map, map_bytes);
  return ok;
}

#define LOWBIT_TEST_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
LOWBIT_TEST_AVX512 void srdhm16(const int32_t* a, const int32_t* b, int32_t* out) {
  _mm512_storeu_si512(out, lowbit::amx_emulated::srdhm_epi32(_mm512_loadu_si512(a), _mm512_loadu_si512(b)));
}
LOWBIT_TEST_AVX512 void rounding_divide16(const int32_t* x, const int32_t* e, int32_t* out) {
  _mm512_storeu_si512(out, lowbit::amx_emulated::rounding_divide_by_pot_epi32(_mm512_loadu_si512(x), _mm512_loadu_si512(e)));
}

const size_t kSizes[] = {1, 2, 3, 4, 5, 7, 8, 13, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100, 127, 128, 129, 255};

}  // namespace

TEST(amx_emulated_random_shapes) {
  if (!cpu_runs_kernels()) return skip("the emulated AMX kernels need AVX512-VNNI on the host");
  const GemmPath& path = lowbit::amx_emulated::kGemmPath;
  auto pick = [] { return kSizes[rng()() % (sizeof(kSizes) / sizeof(kSizes[0]))]; };
  reset_hardswish_coverage();
  for (int t = 0; t < 300; ++t) {
    Problem p;
    p.m = pick();
    p.n = pick();
    p.k = pick();
    p.a_signed = rng()() & 1;
    p.b_signed = rng()() & 1;
    p.data = static_cast<int>(rng()() % 3);
    p.zero_points = static_cast<int>(rng()() % 3);
    p.output = static_cast<int>(rng()() % 5);
    p.out_signed = rng()() & 1;
    p.bias = rng()() & 1;
    p.a_stride_pad = rng()() % 3 == 0 ? rng()() % 70 : 0;
    p.hardswish = rng()() & 1;  // half of the fp32 stages
    check(path, "amx_emulated", p);
    RETURN_IF_FAILED();
  }
  check_hardswish_coverage("amx_emulated random shapes");
}

TEST(amx_emulated_every_tail) {
  // Every M tail of a 32-row block and every K tail of a 64-deep slice, with
  // N tails, both A types and both B types (zb' != 0 needs row sums).
  if (!cpu_runs_kernels()) return skip("the emulated AMX kernels need AVX512-VNNI on the host");
  const GemmPath& path = lowbit::amx_emulated::kGemmPath;
  reset_hardswish_coverage();
  for (size_t m = 1; m <= 40; ++m) {
    for (size_t k : {1, 2, 3, 4, 5, 31, 60, 63, 64, 65, 66, 67, 127, 128, 130}) {
      Problem p;
      p.m = m;
      p.k = k;
      p.n = 1 + (m * 7 + k) % 50;
      p.a_signed = (m + k) & 1;
      p.b_signed = (m / 2 + k) & 1;
      p.data = static_cast<int>((m + k) % 3);
      p.zero_points = static_cast<int>(k % 3);
      p.output = static_cast<int>(m % 5);
      p.out_signed = k & 2;
      p.bias = m & 2;
      p.hardswish = (m / 5 + k) & 1;  // half of the fp32 stages (m % 5 is 1 or 2)
      check(path, "amx_emulated", p);
    }
    RETURN_IF_FAILED();
  }
  check_hardswish_coverage("amx_emulated every tail");
}

TEST(amx_real_path_reads_nothing_past_a) {
  // The real AMX path on A that ends at an inaccessible page: a tile load past
  // the last row would crash. Only where the CPU has AMX.
  const GemmPath* path = lowbit::gemm_path(lowbit::Isa::kAmx);
  if (path == nullptr || !lowbit::cpu_supports(lowbit::Isa::kAmx)) return skip("no AMX path on this CPU");
  for (size_t m : {1, 5, 16, 17, 31, 33, 64}) {
    for (size_t k : {1, 3, 63, 65, 100, 129}) {
      Problem p;
      p.m = m;
      p.k = k;
      p.n = 40;
      p.a_signed = k & 1;
      p.b_signed = false;
      p.output = static_cast<int>(m % 5);
      check(*path, "amx", p);
    }
  }
}

TEST(amx_output_stage_fixedpoint_primitives_match_scalar) {
  if (!cpu_runs_kernels()) return skip("needs AVX-512 on the host");
  using namespace lowbit::fixedpoint;
  const int32_t edges[] = {INT32_MIN, INT32_MIN + 1, -(1 << 30) - 1, -(1 << 30), -65536, -3, -2, -1, 0, 1, 2, 3,
                           65535, 1 << 30, (1 << 30) + 1, INT32_MAX - 1, INT32_MAX};
  std::vector<int32_t> xs(edges, edges + sizeof(edges) / sizeof(edges[0]));
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  for (int i = 0; i < 2000; ++i) xs.push_back(any(rng()));
  alignas(64) int32_t a[16], bm[16], e[16], r[16];
  for (size_t i = 0; i + 16 <= xs.size(); i += 3) {
    for (int l = 0; l < 16; ++l) {
      a[l] = xs[(i + l) % xs.size()];
      bm[l] = xs[(i * 7 + l * 13) % xs.size()];
      e[l] = static_cast<int32_t>((i + l) % 32);
    }
    if (i == 0) bm[0] = INT32_MIN;  // the one saturating case, a == b == INT32_MIN
    srdhm16(a, bm, r);
    for (int l = 0; l < 16; ++l) CHECK_EQ(r[l], saturating_rounding_doubling_high_mul(a[l], bm[l]));
    rounding_divide16(a, e, r);
    for (int l = 0; l < 16; ++l) CHECK_EQ(r[l], rounding_divide_by_pot(a[l], e[l]));
    RETURN_IF_FAILED();
  }
}

TEST(amx_output_stage_matches_requantize_one_on_any_accumulator) {
  // The output stage alone (no correction: K = 0, zero points 0) on accumulators
  // over the whole int32 range, every shift, large and small scales.
  if (!cpu_runs_kernels()) return skip("needs AVX-512 on the host");
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX), mult(0, INT32_MAX), shift(-31, 30);
  std::uniform_real_distribution<float> log_scale(-30.0f, 10.0f);
  const size_t n = 37;
  PackedMatrix b;
  b.k = 0;
  b.n = n;
  b.column_sum.assign(n, 0);
  b.zero_point_s8.assign(n, 0);
  size_t hardswish_values = 0, hardswish_changed = 0;
  for (int t = 0; t < 200; ++t) {
    Requantization rq;
    rq.mode = t & 1 ? RequantMode::kFixedpoint : RequantMode::kFp32;
    const size_t count = t & 2 ? n : 1;
    for (size_t j = 0; j < count; ++j) {
      rq.scale.push_back(std::exp2(log_scale(rng())));
      // INT32_MIN is outside the Q31 contract but requantize_one defines it (saturation).
      // With shift 0 and no bias it meets INT32_MIN accumulators below.
      const bool saturating = t % 8 == 3 && j % 5 == 1;
      rq.multiplier.push_back(saturating ? INT32_MIN : j % 5 == 0 ? INT32_MAX : mult(rng()));
      rq.shift.push_back(saturating ? 0 : j % 7 == 0 ? (j % 2 ? -31 : 30) : shift(rng()));
    }
    if (t & 4) for (size_t j = 0; j < (t & 8 ? n : 1); ++j) rq.bias.push_back(any(rng()));
    // HardSwish on half of the fp32 stages: k = y_scale / 6, y_scale in [1e-3, 2].
    if (rq.mode == RequantMode::kFp32 && t & 32) {
      rq.hardswish = true;
      rq.hardswish_k = std::exp2(std::uniform_real_distribution<float>(std::log2(1e-3f), 1.0f)(rng())) / 6.0f;
    }
    rq.out_signed = t & 16;
    // Zero point 0 where saturation is exercised: INT32_MAX + zp would wrap to qmin.
    rq.zero_point = t % 8 == 3 ? 0 : random_zero_point(rq.out_signed);
    rq.qmin = rq.out_signed ? -128 : 0;
    rq.qmax = rq.out_signed ? 127 : 255;
    if (t % 3 == 0) {
      rq.qmin += 5;
      rq.qmax -= 30;
    }
    const size_t rows = 1 + t % 16;
    alignas(64) int32_t acc[16 * 16];
    for (size_t i = 0; i < 16 * 16; ++i) {
      const int32_t edge[] = {INT32_MIN, INT32_MAX, 0, -1, 1};
      acc[i] = i % 11 < 5 ? edge[i % 11] : any(rng());
    }
    GemmArgs args;
    args.b = &b;
    args.rq = &rq;
    std::vector<uint8_t> out(rows * n, 0xCD);
    args.c = out.data();
    args.c_stride = n;
    const lowbit::amx_emulated::OutputStage stage(args, 0, n);
    // The same accumulators for every block of 16 columns; parameters differ per column.
    for (size_t col = 0; col < n; col += 16) stage.store(acc, rows, nullptr, 0, col);
    for (size_t r = 0; r < rows; ++r) {
      for (size_t j = 0; j < n; ++j) {
        const int32_t want = lowbit::requantize_one(rq, acc[r * 16 + j % 16], j);
        const int32_t got = rq.out_signed ? static_cast<int8_t>(out[r * n + j]) : out[r * n + j];
        const int32_t want8 = rq.out_signed ? static_cast<int8_t>(want) : static_cast<uint8_t>(want);
        CHECK_EQ(got, want8);
        if (rq.hardswish) {
          Requantization plain = rq;
          plain.hardswish = false;
          ++hardswish_values;
          hardswish_changed += want != lowbit::requantize_one(plain, acc[r * 16 + j % 16], j);
        }
      }
    }
    RETURN_IF_FAILED();
  }
  // Most accumulators land far outside the clamp either way; enough must not.
  CHECK(hardswish_values > 0 && hardswish_changed * 20 >= hardswish_values);
}

TEST(amx_output_stage_hardswish_not_contracted) {
  // Accumulators where t = x * k + 1/2 fused into one FMA would change the
  // output (see gemm_paths_hardswish_not_contracted): the stage must not.
  if (!cpu_runs_kernels()) return skip("needs AVX-512 on the host");
  size_t found = 0;
  for (int t = 0; t < 8; ++t) {
    Requantization rq;
    rq.mode = RequantMode::kFp32;
    rq.hardswish = true;
    rq.hardswish_k = std::exp2(std::uniform_real_distribution<float>(std::log2(1e-3f), -3.0f)(rng())) / 6.0f;  // a wide quadratic part
    rq.scale = {std::exp2(std::uniform_real_distribution<float>(-24.0f, -22.0f)(rng()))};
    rq.out_signed = t & 1;
    rq.zero_point = rq.out_signed ? -20 : 30;
    rq.qmin = rq.out_signed ? -128 : 0;
    rq.qmax = rq.out_signed ? 127 : 255;
    const std::vector<int32_t> accs = hardswish_fma_sensitive(rq, 16 * 16);
    found += accs.size();
    if (accs.empty()) continue;
    const size_t n = 16, rows = (accs.size() + 15) / 16;
    alignas(64) int32_t acc[16 * 16] = {};
    std::copy(accs.begin(), accs.end(), acc);
    PackedMatrix b;
    b.k = 0;
    b.n = n;
    b.column_sum.assign(n, 0);
    b.zero_point_s8.assign(n, 0);
    GemmArgs args;
    args.b = &b;
    args.rq = &rq;
    std::vector<uint8_t> out(rows * n, 0xCD);
    args.c = out.data();
    args.c_stride = n;
    const lowbit::amx_emulated::OutputStage stage(args, 0, n);
    stage.store(acc, rows, nullptr, 0, 0);
    for (size_t i = 0; i < rows * n; ++i) {
      const int32_t want = lowbit::requantize_one(rq, acc[i], 0);
      const int32_t got = rq.out_signed ? static_cast<int8_t>(out[i]) : out[i];
      CHECK_EQ(got, rq.out_signed ? static_cast<int8_t>(want) : static_cast<uint8_t>(want));
    }
    RETURN_IF_FAILED();
  }
  CHECK(found >= 8 * 32);  // a search that finds nothing tests nothing
  std::printf("  %zu accumulators where FMA changes the output\n", found);
}

#endif  // LOWBIT_TEST_AMX_EMULATED
