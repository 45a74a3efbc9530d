// Edge cases of the SIMD GEMM paths the generic random tests rarely reach:
// the output stage over the whole int32 range (accumulator + bias chosen
// freely), extreme requantization parameters, int32 wrap-around for huge K,
// and A ending right before an unmapped page (no path may read past the last
// row). Every compiled path the CPU supports is compared with ref/, bit for bit.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <vector>

#include "gemm_tester.h"
#include "harness.h"
#include "lowbit/gemm.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

// Runs path `isa` on A (m x k, a_stride) and B (k x n), compares with ref.
bool run_and_compare(Isa isa, size_t m, size_t n, size_t k, const uint8_t* a, size_t a_stride,
                     bool a_signed, int32_t a_zp, const std::vector<uint8_t>& b, bool b_signed,
                     const std::vector<int32_t>& b_zp, const Requantization* rq, const char* what) {
  const GemmPath* path = gemm_path(isa);
  std::vector<int32_t> acc(m * n);
  ref::gemm_s32(m, n, k, a, a_signed, a_stride, a_zp, b.data(), b_signed, n, b_zp.data(), b_zp.size(),
                acc.data(), n);
  const size_t out_bytes = rq ? 1 : 4;
  std::vector<uint8_t> expected(m * n * out_bytes), got(m * n * out_bytes, 0xCD);
  if (rq) {
    ref::requantize(*rq, acc.data(), m, n, 1, expected.data());
  } else {
    std::memcpy(expected.data(), acc.data(), expected.size());
  }
  PackedMatrix packed;
  pack_matrix(*path, b.data(), b_signed, k, n, n, b_zp, &packed);
  GemmArgs args;
  args.m = m;
  args.a = a;
  args.a_stride = a_stride;
  args.a_signed = a_signed;
  args.a_zero_point = a_zp;
  args.b = &packed;
  args.rq = rq;
  args.c = got.data();
  args.c_stride = n;
  gemm(*path, args);
  for (size_t i = 0; i < m * n; ++i) {
    if (std::memcmp(&got[i * out_bytes], &expected[i * out_bytes], out_bytes) != 0) {
      int32_t g = 0, e = 0;
      if (rq) {
        g = rq->out_signed ? static_cast<int8_t>(got[i]) : got[i];
        e = rq->out_signed ? static_cast<int8_t>(expected[i]) : expected[i];
      } else {
        std::memcpy(&g, &got[i * 4], 4);
        std::memcpy(&e, &expected[i * 4], 4);
      }
      record_failure(__FILE__, __LINE__,
                     std::string(isa_name(isa)) + " " + what + " m=" + std::to_string(m) +
                         " n=" + std::to_string(n) + " k=" + std::to_string(k) + ": C[" +
                         std::to_string(i / n) + "][" + std::to_string(i % n) + "] = " +
                         std::to_string(g) + ", ref " + std::to_string(e) +
                         " (acc " + std::to_string(acc[i]) + ")");
      return false;
    }
  }
  return true;
}

int32_t pick_i32(std::mt19937& r) {
  static const int32_t special[] = {INT32_MIN, INT32_MIN + 1, -(1 << 30), -(1 << 30) - 1, -65536, -257,
                                    -256, -255, -129, -128, -127, -3, -2, -1, 0, 1, 2, 3, 127, 128,
                                    255, 256, 65535, 1 << 30, (1 << 30) + 1, INT32_MAX - 1, INT32_MAX};
  const size_t ns = sizeof(special) / sizeof(special[0]);
  switch (r() % 4) {
    case 0: return special[r() % ns];
    case 1: return static_cast<int32_t>(r()) >> (r() % 31);  // all magnitudes
    default: return static_cast<int32_t>(r());
  }
}

// HardSwish's k = y_scale / 6, y_scale log-uniform in [1e-3, 2].
float random_hardswish_k(std::mt19937& r) {
  return std::exp2(std::uniform_real_distribution<float>(std::log2(1e-3f), 1.0f)(r)) / 6.0f;
}

// A random output type and zero point, and one time in three a range narrowed
// by up to `narrow` steps at each end.
void random_output_type_and_range(std::mt19937& r, int narrow, Requantization* rq) {
  rq->out_signed = r() & 1;
  const int lo = rq->out_signed ? -128 : 0, hi = rq->out_signed ? 127 : 255;
  rq->zero_point = lo + static_cast<int32_t>(r() % 256);
  rq->qmin = lo;
  rq->qmax = hi;
  if (r() % 3 == 0) {
    rq->qmin = lo + static_cast<int32_t>(r() % narrow);
    rq->qmax = hi - static_cast<int32_t>(r() % narrow);
  }
}

}  // namespace

// A == a_zero_point makes every accumulator 0, so the output stage sees exactly
// the bias: arbitrary int32 inputs, including INT32_MIN/MAX, against arbitrary
// multipliers, shifts (wrapping left shifts included) and scales.
TEST(gemm_paths_output_stage_whole_int32_range) {
  auto& r = rng();
  for (auto isa : isas_under_test()) {
    for (int t = 0; t < 48; ++t) {
      const size_t m = 1 + r() % 9, n = 1 + r() % 70, k = 1 + r() % 9;
      const bool a_signed = r() & 1, b_signed = r() & 1, zero_acc = (t % 3) != 2;
      const int32_t a_zp = a_signed ? static_cast<int32_t>(r() % 256) - 128 : static_cast<int32_t>(r() % 256);
      std::vector<uint8_t> a(m * k), b(k * n);
      for (auto& v : a) v = zero_acc ? static_cast<uint8_t>(a_zp) : static_cast<uint8_t>(r());
      for (auto& v : b) v = static_cast<uint8_t>(r());
      std::vector<int32_t> b_zp;
      if (r() & 1) b_zp.push_back(static_cast<int32_t>(r() % 256) - (b_signed ? 128 : 0));

      Requantization rq;
      rq.mode = (t & 1) ? RequantMode::kFixedpoint : RequantMode::kFp32;
      const bool per_channel = (t / 2) & 1;
      const size_t channels = per_channel ? n : 1;
      for (size_t j = 0; j < n; ++j) rq.bias.push_back(pick_i32(r));
      for (size_t j = 0; j < channels; ++j) {
        if (rq.mode == RequantMode::kFp32) {
          static const float scales[] = {1.0f, 0.5f, 0.25f, 1.5f, 1e-9f, 3e-5f, 1e-3f, 7.0f, 1e9f, 0.0f};
          const float random_scale = std::ldexp(static_cast<float>(r() % 1000 + 1), -static_cast<int>(r() % 40));
          rq.scale.push_back((r() & 1) ? scales[r() % 10] : random_scale);
        } else {
          // INT32_MIN is outside the Q31 contract but defined by requantize_one (SRDHM saturates).
          static const int32_t mults[] = {0, 1, 1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MIN};
          rq.multiplier.push_back((r() & 1) ? mults[r() % 6] : static_cast<int32_t>(r() >> 1));
          rq.shift.push_back(static_cast<int32_t>(r() % 62) - 31);  // [-31, 30]
        }
      }
      // HardSwish on half of the fp32 cases: k = y_scale / 6, y_scale in [1e-3, 2].
      if (rq.mode == RequantMode::kFp32 && (t / 4) & 1) {
        rq.hardswish = true;
        rq.hardswish_k = random_hardswish_k(r);
      }
      random_output_type_and_range(r, 100, &rq);  // sometimes a fused activation range
      if (!run_and_compare(isa, m, n, k, a.data(), k, a_signed, a_zp, b, b_signed, b_zp, &rq,
                           rq.hardswish ? "fp32 hardswish" : rq.mode == RequantMode::kFp32 ? "fp32" : "fixedpoint")) {
        return;
      }
    }
  }
}

// Fixed-point: every shift in [-31, 30] with the multipliers at their bounds,
// over inputs that hit the rounding ties of SRDHM and RDBPOT.
TEST(gemm_paths_fixedpoint_every_shift) {
  auto& r = rng();
  for (auto isa : isas_under_test()) {
    for (int32_t mult : {0, 1, 1 << 30, INT32_MAX, INT32_MIN}) {
      const size_t m = 3, n = 62, k = 2;
      std::vector<uint8_t> a(m * k, 7), b(k * n);
      for (auto& v : b) v = static_cast<uint8_t>(r());
      Requantization rq;
      rq.mode = RequantMode::kFixedpoint;
      for (size_t j = 0; j < n; ++j) {
        rq.multiplier.push_back(mult);
        rq.shift.push_back(static_cast<int32_t>(j) - 31);
        // Ties: +-2^(e-1) and odd multiples of it, around the rounding point.
        const int e = 31 - static_cast<int>(j) > 0 ? 31 - static_cast<int>(j) : 1;
        const int64_t half = int64_t{1} << (e - 1);
        const int64_t pick[] = {half, -half, 3 * half, -3 * half, half - 1, -half + 1, INT32_MIN, INT32_MAX};
        int64_t v = pick[r() % 8];
        if (v > INT32_MAX) v = INT32_MAX;
        if (v < INT32_MIN) v = INT32_MIN;
        rq.bias.push_back(static_cast<int32_t>(v));
      }
      rq.zero_point = 3;
      rq.qmin = 0;
      rq.qmax = 255;
      if (!run_and_compare(isa, m, n, k, a.data(), k, false, 7, b, true, {}, &rq, "fixedpoint shifts")) return;
    }
  }
}

// K beyond 33025 at the extreme values: the int32 accumulator wraps, the same
// way on every path.
TEST(gemm_paths_int32_wraparound) {
  for (auto isa : isas_under_test()) {
    GemmTester().m(2).n(33).k(40000).a_signed(false).b_signed(true).data(Data::kExtreme)
        .zero_points(ZeroPoints::kNone).output(Output::kInt32).test(isa);
    GemmTester().m(3).n(17).k(66001).a_signed(true).b_signed(false).data(Data::kExtreme)
        .zero_points(ZeroPoints::kPerColumn).output(Output::kInt32).test(isa);
    RETURN_IF_FAILED();
  }
}

// The last row of A ends exactly at an unmapped page: a path that reads past it
// (a full-width load for the K tail) dies here instead of silently passing.
TEST(gemm_paths_no_read_past_a) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  auto& r = rng();
  for (auto isa : isas_under_test()) {
    for (size_t m : {1, 2, 5, 8, 13}) {
      for (size_t k = 1; k <= 70; k += (k < 20 ? 1 : 7)) {
        const size_t n = 1 + r() % 40;
        const size_t bytes = m * k;
        const size_t span = (bytes + page - 1) / page * page;
        void* map = mmap(nullptr, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(map != MAP_FAILED);
        if (map == MAP_FAILED) return;
        auto* base = static_cast<uint8_t*>(map);
        mprotect(base + span, page, PROT_NONE);
        uint8_t* a = base + span - bytes;
        for (size_t i = 0; i < bytes; ++i) a[i] = static_cast<uint8_t>(r());
        std::vector<uint8_t> b(k * n);
        for (auto& v : b) v = static_cast<uint8_t>(r());
        const bool a_signed = r() & 1;
        std::vector<int32_t> b_zp = {static_cast<int32_t>(r() % 200) - 100};  // zb' != 0: row sums run too
        Requantization rq;
        rq.mode = RequantMode::kFp32;
        rq.scale = {1.0f / static_cast<float>(64 * k)};
        rq.qmin = 0;
        rq.qmax = 255;
        rq.zero_point = 128;
        run_and_compare(isa, m, n, k, a, k, a_signed, 3, b, true, b_zp, nullptr, "guard page int32");
        run_and_compare(isa, m, n, k, a, k, a_signed, 3, b, false, b_zp, &rq, "guard page fp32");
        munmap(map, span + page);
        RETURN_IF_FAILED();
      }
    }
  }
}

// K around and beyond the lengths where a path may switch strategy (the AVX2
// path widens A to int16 in a stack buffer only up to K = 4096), with every
// output kind, both A signednesses and row sums in play.
TEST(gemm_paths_long_k) {
  auto& r = rng();
  for (auto isa : isas_under_test()) {
    for (size_t k : {4095, 4096, 4097, 4099, 5003, 8193}) {
      for (int o = 0; o < 7; ++o) {  // 5, 6: the fp32 outputs again, with HardSwish
        GemmTester().m(1 + r() % 9).n(1 + r() % 40).k(k).a_signed(r() & 1).b_signed(r() & 1)
            .data(Data::kRandom).zero_points(ZeroPoints::kPerColumn).output(static_cast<Output>(o < 5 ? o : o - 4))
            .out_signed(r() & 1).bias(true).a_stride_pad(r() % 5).hardswish(o >= 5).test(isa);
      }
      RETURN_IF_FAILED();
    }
  }
}

// K = 0 (an empty reduction, legal in ONNX): every output is the output stage
// of a zero accumulator plus bias, and no path may touch A or B.
TEST(gemm_paths_empty_k) {
  auto& r = rng();
  for (auto isa : isas_under_test()) {
    const size_t m = 9, n = 37;
    const std::vector<uint8_t> b;
    const std::vector<int32_t> b_zp = {5};
    run_and_compare(isa, m, n, 0, nullptr, 0, false, 3, b, true, b_zp, nullptr, "k=0 int32");
    for (auto mode : {RequantMode::kFp32, RequantMode::kFixedpoint}) {
      Requantization rq;
      rq.mode = mode;
      rq.scale = {0.37f};
      rq.multiplier = {1 << 30};
      rq.shift = {-3};
      for (size_t j = 0; j < n; ++j) rq.bias.push_back(static_cast<int32_t>(r() % 2001) - 1000);
      rq.zero_point = 100;
      rq.qmin = 0;
      rq.qmax = 255;
      run_and_compare(isa, m, n, 0, nullptr, 0, true, 3, b, false, b_zp, &rq, "k=0 requantized");
      if (mode == RequantMode::kFp32) {
        rq.scale = {0.05f};
        rq.hardswish = true;
        rq.hardswish_k = 0.1f / 6.0f;  // bends at x = +-30, acc = +-600: inside the bias range
        run_and_compare(isa, m, n, 0, nullptr, 0, true, 3, b, false, b_zp, &rq, "k=0 hardswish");
      }
    }
    RETURN_IF_FAILED();
  }
}

// HardSwish at its bends and on rounding ties. Zero accumulators (A equal to
// its zero point), so the output stage sees exactly the bias: per column,
// values right around x * k = -1/2 and +1/2 (where t leaves 0 and reaches 1),
// around the clamp bounds, and, with power-of-two scales and k, every integer
// x in a range, where x * t hits exact halves (k = 1/8: x = 2 gives 1.5, x = -2
// gives -0.5, x = -6 gives -0 * ...). The HardSwish results are also checked
// to differ from the plain stage, so a path ignoring the flag fails here.
TEST(gemm_paths_hardswish_bends_and_ties) {
  auto& r = rng();
  size_t total = 0, changed = 0;
  for (auto isa : isas_under_test()) {
    for (int t = 0; t < 40; ++t) {
      const size_t m = 1 + r() % 5, n = 1 + r() % 80, k = 1 + r() % 6;
      const bool a_signed = r() & 1, b_signed = r() & 1;
      const int32_t a_zp = a_signed ? static_cast<int32_t>(r() % 256) - 128 : static_cast<int32_t>(r() % 256);
      std::vector<uint8_t> a(m * k, static_cast<uint8_t>(a_zp)), b(k * n);
      for (auto& v : b) v = static_cast<uint8_t>(r());

      Requantization rq;
      rq.mode = RequantMode::kFp32;
      rq.hardswish = true;
      const bool exact = t % 2 == 0;  // power-of-two scale and k: exact ties
      if (exact) {
        static const float ks[] = {0.125f, 0.25f, 0.0625f, 0.5f, 1.0f / 32};
        rq.hardswish_k = ks[r() % 5];
        rq.scale = {std::ldexp(1.0f, -static_cast<int>(r() % 3))};
      } else {
        rq.hardswish_k = random_hardswish_k(r);
        const bool per_channel = (t / 2) & 1;
        for (size_t j = 0; j < (per_channel ? n : 1); ++j) {
          rq.scale.push_back(std::exp2(std::uniform_real_distribution<float>(-12.0f, 2.0f)(r)));
        }
      }
      random_output_type_and_range(r, 60, &rq);
      const float bend = 0.5f / rq.hardswish_k;  // |x| at either bend
      for (size_t j = 0; j < n; ++j) {
        const float s = rq.scale[rq.scale.size() == 1 ? 0 : j];
        double x;
        if (exact) {
          x = static_cast<double>(j % 48) - 16.0;  // integers, both bends for k >= 1/16
          if (rq.hardswish_k < 0.0625f) x *= 2;
        } else {
          switch (r() % 4) {
            case 0: x = -bend; break;
            case 1: x = bend; break;
            case 2: x = static_cast<double>(rq.qmin - rq.zero_point) + (r() % 2 ? 0.5 : -0.5); break;
            default: x = std::uniform_real_distribution<double>(-2.0 * bend, 2.0 * bend)(r);
          }
        }
        // The accumulator nearest x / s, then a nudge of a few units either way.
        double acc = std::nearbyint(x / s) + static_cast<double>(static_cast<int>(r() % 5) - 2);
        acc = std::max(-2147483648.0, std::min(2147483647.0, acc));
        rq.bias.push_back(static_cast<int32_t>(acc));
      }
      Requantization plain = rq;
      plain.hardswish = false;
      size_t differ = 0;
      for (size_t j = 0; j < n; ++j) differ += requantize_one(rq, rq.bias[j], j) != requantize_one(plain, rq.bias[j], j);
      total += n;
      changed += differ;
      if (!run_and_compare(isa, m, n, k, a.data(), k, a_signed, a_zp, b, b_signed, {}, &rq, "hardswish bends")) return;
    }
  }
  // Columns sit at the bends, where HardSwish moves x most; a path ignoring
  // the flag would match ref only by chance.
  CHECK(changed * 3 >= total);
}

// requantize_one computes t = x * k + 1/2 in two roundings. A path whose
// compiler contracted it into one FMA would differ only where x * t ends up
// within an ulp of a rounding boundary, which random data never meets: the
// accumulators are searched for exactly those (hardswish_fma_sensitive), and
// every path must give the two-rounding result.
TEST(gemm_paths_hardswish_not_contracted) {
  auto& r = rng();
  for (auto isa : isas_under_test()) {
    size_t found_total = 0;
    for (int t = 0; t < 6; ++t) {
      Requantization rq;
      rq.mode = RequantMode::kFp32;
      rq.hardswish = true;
      rq.hardswish_k = std::exp2(std::uniform_real_distribution<float>(std::log2(1e-3f), -3.0f)(r)) / 6.0f;  // a wide quadratic part
      // A fine scale: near a rounding boundary, dozens of accumulators fall
      // within the one-ulp band where the FMA matters.
      rq.scale = {std::exp2(std::uniform_real_distribution<float>(-24.0f, -22.0f)(r))};
      rq.zero_point = t & 1 ? -20 : 30;
      rq.out_signed = t & 1;
      rq.qmin = rq.out_signed ? -128 : 0;
      rq.qmax = rq.out_signed ? 127 : 255;
      rq.bias = hardswish_fma_sensitive(rq, 64);
      if (rq.bias.empty()) continue;
      found_total += rq.bias.size();
      const size_t n = rq.bias.size(), m = 3, k_dim = 2;
      std::vector<uint8_t> a(m * k_dim, 9), b(k_dim * n);
      for (auto& v : b) v = static_cast<uint8_t>(r());
      const float scale = rq.scale[0];
      rq.scale.assign(n, scale);  // per channel, every channel alike
      if (!run_and_compare(isa, m, n, k_dim, a.data(), k_dim, false, 9, b, true, {}, &rq, "hardswish fma")) return;
    }
    // A search that finds nothing tests nothing.
    CHECK(found_total >= 6 * 16);
    if (isa == Isa::kRef) std::printf("  %zu accumulators where FMA changes the output\n", found_total);
  }
}
