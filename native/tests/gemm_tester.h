// GemmTester: builds one int8 GEMM problem (builder style, as XNNPACK's
// microkernel testers do) and checks a path's output against ref/, bit for bit.
#pragma once

#include <string>
#include <vector>

#include "lowbit/gemm.h"

namespace lowbit_test {

enum class Data { kRandom, kExtreme, kAlternating };
enum class ZeroPoints { kNone, kPerTensor, kPerColumn };
enum class Output { kInt32, kFp32PerTensor, kFp32PerChannel, kFixedpointPerTensor, kFixedpointPerChannel };

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
};

}  // namespace lowbit_test
