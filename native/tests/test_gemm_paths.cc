// Every compiled GEMM path the CPU supports, bit for bit against ref/.
#include <vector>

#include "gemm_tester.h"
#include "harness.h"

using namespace lowbit_test;

namespace {
// The sizes the issue asks for: small, odd, prime, tile boundaries and large.
const size_t kSizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                         31, 33, 63, 64, 65, 127, 129, 255, 1000};

size_t pick(std::mt19937& r, size_t limit) {
  for (;;) {
    const size_t s = kSizes[r() % (sizeof(kSizes) / sizeof(kSizes[0]))];
    if (s <= limit) return s;
  }
}
}  // namespace

TEST(gemm_paths_random_shapes) {
  auto isas = isas_under_test();
  reset_hardswish_coverage();
  for (int t = 0; t < 240; ++t) {
    auto& r = rng();
    // Bound the work per shape: M*N*K stays under ~4e6 so the ref runs fast.
    size_t m = pick(r, 1000), n = pick(r, 1000), k = pick(r, 1000);
    while (m * n * k > 4000000) {
      if (m >= n && m >= k) m = pick(r, m - 1); else if (n >= k) n = pick(r, n - 1); else k = pick(r, k - 1);
    }
    GemmTester tester;
    tester.m(m).n(n).k(k).a_signed(r() & 1).b_signed(r() & 1)
        .data(static_cast<Data>(r() % 3))
        .zero_points(static_cast<ZeroPoints>(r() % 3))
        .output(static_cast<Output>(r() % 5))
        .out_signed(r() & 1)
        .bias(r() & 1)
        .a_stride_pad(r() % 3 == 0 ? r() % 17 : 0)
        .hardswish(r() & 1);  // half of the fp32 stages
    for (auto isa : isas) tester.test(isa);
    RETURN_IF_FAILED();
  }
  check_hardswish_coverage("random shapes");
}

TEST(gemm_paths_adversarial_values) {
  // All combinations of signedness and output kind on the values that would
  // saturate an int16 pair sum, at tile-boundary sizes.
  reset_hardswish_coverage();
  for (auto isa : isas_under_test()) {
    for (size_t k : {1, 2, 3, 4, 5, 8, 63, 64, 65, 255, 1000}) {
      for (int combo = 0; combo < 4; ++combo) {
        for (Data d : {Data::kExtreme, Data::kAlternating}) {
          for (Output o : {Output::kInt32, Output::kFp32PerChannel, Output::kFixedpointPerChannel}) {
            GemmTester().m(17).n(33).k(k).a_signed(combo & 1).b_signed(combo & 2).data(d)
                .zero_points(ZeroPoints::kNone).output(o).out_signed(combo & 1).test(isa);
            GemmTester().m(5).n(65).k(k).a_signed(combo & 1).b_signed(combo & 2).data(d)
                .zero_points(ZeroPoints::kPerColumn).output(o).test(isa);
          }
          // HardSwish on the same extremes (int32 near its limits before the scaling).
          GemmTester().m(17).n(33).k(k).a_signed(combo & 1).b_signed(combo & 2).data(d)
              .zero_points(ZeroPoints::kNone).output(Output::kFp32PerTensor).out_signed(combo & 2)
              .hardswish(true).test(isa);
          GemmTester().m(5).n(65).k(k).a_signed(combo & 1).b_signed(combo & 2).data(d)
              .zero_points(ZeroPoints::kPerColumn).output(Output::kFp32PerChannel).bias(combo & 1)
              .hardswish(true).test(isa);
        }
      }
      RETURN_IF_FAILED();
    }
  }
  check_hardswish_coverage("adversarial values");
}

TEST(gemm_paths_gemv_batch_one) {
  reset_hardswish_coverage();
  for (auto isa : isas_under_test()) {
    for (size_t n : {1, 7, 16, 17, 64, 100, 1000}) {
      for (size_t k : {1, 3, 4, 31, 64, 129, 1000}) {
        GemmTester().m(1).n(n).k(k).a_signed(false).b_signed(true).data(Data::kRandom)
            .zero_points(ZeroPoints::kPerTensor).output(Output::kInt32).test(isa);
        GemmTester().m(1).n(n).k(k).a_signed(true).b_signed(true).data(Data::kAlternating)
            .zero_points(ZeroPoints::kPerColumn).output(Output::kFp32PerChannel).bias(true).test(isa);
        GemmTester().m(1).n(n).k(k).a_signed(k & 1).b_signed(true).data(Data::kRandom)
            .zero_points(ZeroPoints::kPerTensor).output(n & 1 ? Output::kFp32PerTensor : Output::kFp32PerChannel)
            .out_signed(n & 2).bias(k & 2).hardswish(true).test(isa);
      }
      RETURN_IF_FAILED();
    }
  }
  check_hardswish_coverage("gemv");
}

// HardSwish stages on the shapes where tiles end: 1 row and every M tail of the
// widest tile (8 rows), column tails around every path's panel width (8, 16,
// 32), short and long K; per tensor and per channel, with and without bias,
// uint8 and int8 out, narrowed clamps (the tester narrows 1 in 3).
TEST(gemm_paths_hardswish_edge_shapes) {
  auto& r = rng();
  reset_hardswish_coverage();
  for (size_t m : {1, 2, 3, 5, 7, 8, 9, 17}) {
    for (size_t n : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 65, 100}) {
      GemmTester tester;
      tester.m(m).n(n).k(std::vector<size_t>{1, 3, 4, 5, 31, 64, 67, 300}[r() % 8])
          .a_signed(r() & 1).b_signed(r() & 1).data(r() % 4 == 0 ? Data::kAlternating : Data::kRandom)
          .zero_points(static_cast<ZeroPoints>(r() % 3))
          .output((m + n) & 1 ? Output::kFp32PerChannel : Output::kFp32PerTensor)
          .out_signed(r() & 1).bias(r() & 1).a_stride_pad(r() % 3 == 0 ? r() % 9 : 0).hardswish(true);
      for (auto isa : isas_under_test()) tester.test(isa);
      RETURN_IF_FAILED();
    }
  }
  check_hardswish_coverage("edge shapes");
}
