// GemmTester: builds one int8 GEMM problem (builder style, as XNNPACK's
// microkernel testers do) and checks a path's output against ref/, bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lowbit/gemm.h"

namespace lowbit_test {

enum class Data { kRandom, kExtreme, kAlternating };
enum class ZeroPoints { kNone, kPerTensor, kPerColumn };
enum class Output { kInt32, kFp32PerTensor, kFp32PerChannel, kFixedpointPerTensor, kFixedpointPerChannel };

// How much of HardSwish the fp32 stages of the current test reached (reset by
// reset_hardswish_coverage). A HardSwish case that never changes an output, or
// never leaves the quadratic part, proves nothing: check_hardswish_coverage
// fails the test unless 2 in 3 cases changed outputs and both bends were crossed.
struct HardSwishCoverage {
  size_t cases = 0;     // problems requantized with HardSwish
  size_t changed = 0;   // ... whose output differs from the same stage without it
  size_t below = 0;     // values with x * k + 1/2 < 0 (HardSwish gives -0 or 0)
  size_t between = 0;   // values on the quadratic part
  size_t above = 0;     // values with x * k + 1/2 > 1 (HardSwish is the identity)
};
HardSwishCoverage& hardswish_coverage();
void reset_hardswish_coverage();
void check_hardswish_coverage(const char* what);

// Turns rq (fp32 mode, bias already set) into a HardSwish stage for the int32
// accumulators acc (m x n, row stride n, channel = column): y_scale drawn
// log-uniform in [1e-3, 2], k = y_scale / 6, and `channels` scales (1 = per
// tensor) such that the largest |x| = |acc + bias| * scale of each channel is
// 0.2 to 1.5 times max(40, 6 / y_scale) output steps: the bends (x = -+3 /
// y_scale) fall inside most channels' data, the quadratic part inside all.
void make_hardswish_stage(lowbit::Requantization* rq, const int32_t* acc, size_t m, size_t n,
                          size_t channels);

// Adds one problem to hardswish_coverage(): compares requantize_one with and
// without the HardSwish, and counts where each x fell.
void tally_hardswish(const lowbit::Requantization& rq, const int32_t* acc, size_t m, size_t n);

// Accumulators (at most `limit`, bias 0, channel 0) for which requantize_one
// with rq's HardSwish differs from the same steps with t = x * k + 1/2 fused
// into one FMA: around each x on the quadratic part where x * t = j + 1/2.
// Finds many with a fine scale (2^-22 or so: x moves ~1e-7 per unit of acc).
std::vector<int32_t> hardswish_fma_sensitive(const lowbit::Requantization& rq, size_t limit);

class GemmTester {
 public:
  GemmTester& m(size_t v) { m_ = v; return *this; }
  GemmTester& n(size_t v) { n_ = v; return *this; }
  GemmTester& k(size_t v) { k_ = v; return *this; }
  GemmTester& a_signed(bool v) { a_signed_ = v; return *this; }
  GemmTester& b_signed(bool v) { b_signed_ = v; return *this; }
  GemmTester& data(Data v) { data_ = v; return *this; }
  GemmTester& zero_points(ZeroPoints v) { zero_points_ = v; return *this; }
  GemmTester& output(Output v) { output_ = v; return *this; }
  GemmTester& out_signed(bool v) { out_signed_ = v; return *this; }
  GemmTester& bias(bool v) { bias_ = v; return *this; }
  GemmTester& a_stride_pad(size_t v) { a_stride_pad_ = v; return *this; }
  // fp32 outputs only: a HardSwish stage (make_hardswish_stage) instead of the
  // plain one; ignored for int32 and fixedpoint outputs.
  GemmTester& hardswish(bool v) { hardswish_ = v; return *this; }

  // Runs the path over the whole problem and over uneven row/column splits (as
  // a thread pool would); returns false and records a failure on any mismatch.
  bool test(lowbit::Isa isa) const;

  std::string describe() const;

 private:
  size_t m_ = 1, n_ = 1, k_ = 1;
  bool a_signed_ = false, b_signed_ = true;
  Data data_ = Data::kRandom;
  ZeroPoints zero_points_ = ZeroPoints::kPerTensor;
  Output output_ = Output::kInt32;
  bool out_signed_ = false;
  bool bias_ = false;
  size_t a_stride_pad_ = 0;
  bool hardswish_ = false;
};

}  // namespace lowbit_test
