// Softmax: every SIMD path against ref within 1e-6 relative (row lengths 1..200
// for every tail, large and -inf inputs, LogSoftmax), the strided (inner > 1)
// walk against the contiguous one; reductions against a double-precision
// definition over every pattern of reduced axes.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "harness.h"
#include "lowbit/reduce.h"
#include "lowbit/thread_pool.h"

using namespace lowbit;
using namespace lowbit_test;

namespace {

ThreadPool& pool3() {
  static ThreadPool pool(3);
  return pool;
}

bool close(float a, float b, float rtol, float atol) {
  if (a != a || b != b) return a != a && b != b;
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= rtol * std::fabs(b) + atol;
}

}  // namespace

TEST(softmax_paths_match_ref) {
  for (Isa isa : isas_under_test()) {
    const SoftmaxPath& path = softmax_path(isa);
    for (size_t n = 1; n <= 200; n += (n < 40 ? 1 : 37)) {
      for (int mode = 0; mode < 3; ++mode) {
        std::vector<float> x(n);
        for (auto& v : x) {
          v = std::uniform_real_distribution<float>(-10.0f, 10.0f)(rng());
          if (mode == 1) v = v * 100.0f + 1000.0f;  // large: needs the max shift
          if (mode == 2 && rng()() % 5 == 0) v = -std::numeric_limits<float>::infinity();
        }
        if (mode == 2) x[0] = 1.0f;
        for (bool log : {false, true}) {
          std::vector<float> want(n), got(n);
          ref::softmax_row(x.data(), want.data(), n, log);
          path.softmax_row(x.data(), got.data(), n, log);
          for (size_t i = 0; i < n; ++i) {
            // log-softmax values near 0 are differences: absolute tolerance.
            if (!close(got[i], want[i], 1e-6f, log ? 2e-6f : 1e-37f)) {
              record_failure(__FILE__, __LINE__, std::string(isa_name(isa)) + " n=" + std::to_string(n) + " log=" +
                                                     std::to_string(log) + " i=" + std::to_string(i) + ": " +
                                                     std::to_string(got[i]) + " vs " + std::to_string(want[i]));
              return;
            }
          }
        }
      }
    }
  }
}

TEST(softmax_strided_matches_contiguous) {
  const size_t outer = 3, n = 7, inner = 5;
  std::vector<float> x(outer * n * inner), y(x.size()), col(n), want(n);
  for (auto& v : x) v = std::uniform_real_distribution<float>(-5.0f, 5.0f)(rng());
  for (bool log : {false, true}) {
    softmax_f32(ref::kSoftmaxPath, x.data(), outer, n, inner, log, y.data(), &pool3());
    for (size_t o = 0; o < outer; ++o) {
      for (size_t i = 0; i < inner; ++i) {
        for (size_t k = 0; k < n; ++k) col[k] = x[(o * n + k) * inner + i];
        ref::softmax_row(col.data(), want.data(), n, log);
        for (size_t k = 0; k < n; ++k) CHECK(y[(o * n + k) * inner + i] == want[k]);
      }
    }
  }
}

TEST(reduce_matches_double_definition) {
  const size_t dims[] = {3, 4, 5, 2};
  const size_t rank = 4;
  std::vector<float> x(3 * 4 * 5 * 2);
  for (auto& v : x) v = std::uniform_real_distribution<float>(0.1f, 2.0f)(rng());
  for (uint32_t mask = 0; mask < 16; ++mask) {
    ReducePlan plan;
    plan.rank = rank;
    size_t out_count = 1, red = 1;
    for (size_t d = 0; d < rank; ++d) {
      plan.dims[d] = dims[d];
      plan.reduced[d] = (mask >> d) & 1;
      if (plan.reduced[d]) red *= dims[d];
      else out_count *= dims[d];
    }
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMean, ReduceOp::kMax, ReduceOp::kMin, ReduceOp::kProd,
                        ReduceOp::kL1, ReduceOp::kL2, ReduceOp::kSumSquare}) {
      std::vector<float> got(out_count);
      reduce_f32(op, plan, x.data(), got.data());
      std::vector<double> acc(out_count, op == ReduceOp::kProd ? 1.0 : (op == ReduceOp::kMax ? -1e300 : (op == ReduceOp::kMin ? 1e300 : 0.0)));
      for (size_t i = 0; i < x.size(); ++i) {
        size_t rem = i, o = 0, os = 1;
        for (size_t d = rank; d-- > 0;) {
          const size_t k = rem % dims[d];
          rem /= dims[d];
          if (!plan.reduced[d]) {
            o += k * os;
            os *= dims[d];
          }
        }
        const double v = x[i];
        switch (op) {
          case ReduceOp::kMax: acc[o] = std::max(acc[o], v); break;
          case ReduceOp::kMin: acc[o] = std::min(acc[o], v); break;
          case ReduceOp::kProd: acc[o] *= v; break;
          case ReduceOp::kL2:
          case ReduceOp::kSumSquare: acc[o] += v * v; break;
          default: acc[o] += std::fabs(v); break;
        }
      }
      for (size_t o = 0; o < out_count; ++o) {
        double want = acc[o];
        if (op == ReduceOp::kMean) want /= static_cast<double>(red);
        if (op == ReduceOp::kL2) want = std::sqrt(want);
        CHECK(close(got[o], static_cast<float>(want), 1e-5f, 0.0f));
      }
    }
    RETURN_IF_FAILED();
  }
}
