// Softmax and reductions, portable C++ (the ground truth), and the drivers
// that walk an [outer, n, inner] block or a reduction plan.
#include "lowbit/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "../ops-parallel.h"

namespace lowbit {
namespace ref {

void softmax_row(const float* x, float* out, size_t n, bool log) {
  if (n == 0) return;
  float m = x[0];
  for (size_t i = 1; i < n; ++i) m = binary_one(BinaryOp::kMax, m, x[i]);
  float sum = 0.0f;
  if (log) {
    for (size_t i = 0; i < n; ++i) sum += std::exp(x[i] - m);
    const float lse = std::log(sum);
    for (size_t i = 0; i < n; ++i) out[i] = (x[i] - m) - lse;
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    out[i] = std::exp(x[i] - m);
    sum += out[i];
  }
  for (size_t i = 0; i < n; ++i) out[i] = out[i] / sum;
}

extern const SoftmaxPath kSoftmaxPath = {Isa::kRef, softmax_row};

}  // namespace ref

namespace {

// Softmax down a column: n values `inner` apart.
void softmax_strided(const float* x, float* out, size_t n, size_t inner, bool log) {
  float m = x[0];
  for (size_t i = 1; i < n; ++i) m = binary_one(BinaryOp::kMax, m, x[i * inner]);
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float e = std::exp(x[i * inner] - m);
    if (!log) out[i * inner] = e;
    sum += e;
  }
  if (log) {
    const float lse = std::log(sum);
    for (size_t i = 0; i < n; ++i) out[i * inner] = (x[i * inner] - m) - lse;
  } else {
    for (size_t i = 0; i < n; ++i) out[i * inner] = out[i * inner] / sum;
  }
}

}  // namespace

void softmax_f32(const SoftmaxPath& path, const float* x, size_t outer, size_t n, size_t inner, bool log,
                 float* out, ThreadPool* pool) {
  if (outer == 0 || n == 0 || inner == 0) return;
  const size_t rows = outer * inner;
  parallel_ranges(pool, rows, rows * n * 4, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const size_t o = r / inner, i = r % inner;
      const float* xr = x + o * n * inner + i;
      float* yr = out + o * n * inner + i;
      if (inner == 1) path.softmax_row(xr, yr, n, log);
      else softmax_strided(xr, yr, n, inner, log);
    }
  });
}

namespace {

float reduce_init(ReduceOp op) {
  switch (op) {
    case ReduceOp::kMax: return -std::numeric_limits<float>::infinity();
    case ReduceOp::kMin: return std::numeric_limits<float>::infinity();
    case ReduceOp::kProd: return 1.0f;
    default: return 0.0f;
  }
}

inline float reduce_step(ReduceOp op, float acc, float v) {
  switch (op) {
    case ReduceOp::kMax: return binary_one(BinaryOp::kMax, acc, v);
    case ReduceOp::kMin: return binary_one(BinaryOp::kMin, acc, v);
    case ReduceOp::kProd: return acc * v;
    case ReduceOp::kL1: return acc + std::fabs(v);
    case ReduceOp::kL2:
    case ReduceOp::kSumSquare: return acc + v * v;
    default: return acc + v;
  }
}

}  // namespace

void reduce_f32(ReduceOp op, const ReducePlan& plan, const float* x, float* out) {
  size_t rank = plan.rank;
  size_t dims[kMaxRank + 1];
  bool reduced[kMaxRank + 1];
  for (size_t d = 0; d < rank; ++d) {
    dims[d] = plan.dims[d];
    reduced[d] = plan.reduced[d];
  }
  if (rank == 0) {
    dims[0] = 1;
    reduced[0] = false;
    rank = 1;
  }
  size_t in_count = 1, out_count = 1, reduce_count = 1;
  for (size_t d = 0; d < rank; ++d) {
    in_count *= dims[d];
    if (reduced[d]) reduce_count *= dims[d];
    else out_count *= dims[d];
  }
  const float init = reduce_init(op);
  for (size_t o = 0; o < out_count; ++o) out[o] = init;
  if (in_count > 0) {
    // Output strides of each input axis (0 for reduced axes).
    size_t ostride[kMaxRank + 1];
    size_t s = 1;
    for (size_t d = rank; d-- > 0;) {
      ostride[d] = reduced[d] ? 0 : s;
      if (!reduced[d]) s *= dims[d];
    }
    const size_t inner = dims[rank - 1];
    const bool inner_reduced = reduced[rank - 1];
    size_t idx[kMaxRank + 1] = {};
    size_t ooff = 0;
    for (size_t row = 0, rows = in_count / inner; row < rows; ++row) {
      const float* xr = x + row * inner;
      if (inner_reduced) {
        float acc = out[ooff];
        for (size_t j = 0; j < inner; ++j) acc = reduce_step(op, acc, xr[j]);
        out[ooff] = acc;
      } else {
        for (size_t j = 0; j < inner; ++j) out[ooff + j] = reduce_step(op, out[ooff + j], xr[j]);
      }
      for (size_t d = rank - 1; d-- > 0;) {
        ooff += ostride[d];
        if (++idx[d] < dims[d]) break;
        ooff -= idx[d] * ostride[d];
        idx[d] = 0;
      }
    }
  }
  if (op == ReduceOp::kMean) {
    // An empty reduction has no mean: NaN (0 / 0), as numpy.
    const float count = static_cast<float>(reduce_count);
    for (size_t o = 0; o < out_count; ++o) out[o] = out[o] / count;
  } else if (op == ReduceOp::kL2) {
    for (size_t o = 0; o < out_count; ++o) out[o] = std::sqrt(out[o]);
  }
}

void layer_norm_f32(const float* x, size_t outer, size_t n, const float* scale, const float* bias, float epsilon,
                    float* out, float* mean, float* inv_std, ThreadPool* pool) {
  if (outer == 0) return;
  parallel_ranges(pool, outer, outer * n * 3, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const float* xr = x + r * n;
      float* yr = out + r * n;
      double s = 0.0;
      for (size_t i = 0; i < n; ++i) s += xr[i];
      const float m = static_cast<float>(n == 0 ? 0.0 : s / static_cast<double>(n));
      double v = 0.0;
      for (size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(xr[i]) - static_cast<double>(m);
        v += d * d;
      }
      const double var = n == 0 ? 0.0 : v / static_cast<double>(n);
      const float inv = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(epsilon)));
      for (size_t i = 0; i < n; ++i) {
        const float d = xr[i] - m;
        const float t = (d * inv) * scale[i];
        yr[i] = bias != nullptr ? t + bias[i] : t;
      }
      if (mean != nullptr) mean[r] = m;
      if (inv_std != nullptr) inv_std[r] = inv;
    }
  });
}

}  // namespace lowbit
