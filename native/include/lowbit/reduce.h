// Reductions over float32 tensors: Softmax / LogSoftmax along one axis of an
// [outer, n, inner] block, and ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare
// over any set of axes (JavaScript merges adjacent axes first).
//
// Numerics: ref sums in input order in float32. The SIMD softmax (inner == 1)
// sums in vector lanes and uses the vector exp of lowbit/elementwise.h's
// paths: within 1e-6 relative of ref (tested).
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/cpu.h"
#include "lowbit/elementwise.h"

namespace lowbit {

class ThreadPool;

enum class ReduceOp : int { kSum = 0, kMean, kMax, kMin, kProd, kL1, kL2, kSumSquare, kCount };

// A reduction over a tensor of dims[0..rank); reduced[d] marks the reduced
// axes. The output holds the kept axes in order, contiguous.
struct ReducePlan {
  size_t rank = 0;
  size_t dims[kMaxRank] = {};
  bool reduced[kMaxRank] = {};
};

struct SoftmaxPath {
  Isa isa;
  // One row of n contiguous values: out = softmax(x) or log_softmax(x).
  void (*softmax_row)(const float* x, float* out, size_t n, bool log);
};

const SoftmaxPath& softmax_path(Isa isa);

// Softmax over the middle axis of [outer, n, inner].
void softmax_f32(const SoftmaxPath& path, const float* x, size_t outer, size_t n, size_t inner, bool log,
                 float* out, ThreadPool* pool);

void reduce_f32(ReduceOp op, const ReducePlan& plan, const float* x, float* out);

// ONNX LayerNormalization over rows of n values (everything from `axis` on):
// mean and the biased variance accumulate in double (two passes), InvStdDev =
// 1 / sqrt(var + epsilon) rounded to float, then, as ONNX's function body,
// y = ((x - mean) * inv_std) * scale + bias in float32 (bias may be null).
// mean and inv_std (one value per row) are written when not null.
void layer_norm_f32(const float* x, size_t outer, size_t n, const float* scale, const float* bias, float epsilon,
                    float* out, float* mean, float* inv_std, ThreadPool* pool);

namespace ref {
extern const SoftmaxPath kSoftmaxPath;
void softmax_row(const float* x, float* out, size_t n, bool log);
}  // namespace ref

}  // namespace lowbit
