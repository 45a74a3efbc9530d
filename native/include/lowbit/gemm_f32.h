// fp32 GEMM with packed weights and a fused epilogue, and the kernel "paths"
// (ref, avx2, avx512, neon) that also run the fp32 convolutions (conv_f32.h).
//
//   C[m][n] = epilogue(bias[n] + sum_k A[m][k] * B[k][n])
//
// B is packed once into column panels; A is read either directly (row i at
// a + i * a_stride) or indirectly, as XNNPACK's "igemm": row i is the
// concatenation over taps t < ks of kc = K / ks floats found through an offset
// table (input rows of a convolution, or a zero row where the tap falls into
// the padding). Every output element is computed by exactly one tile, always
// the same way, so results do not depend on the thread count.
//
// Numerics: ref accumulates bias first, then the products in k order, with
// separate multiply and add; the SIMD paths use FMA and the same k order per
// element. They agree with ref within a few ulp of sum_k |A[m][k] * B[k][n]|
// (native/tests/test_conv_f32.cc checks 2e-5 of that bound).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "lowbit/aligned_buffer.h"
#include "lowbit/cpu.h"

namespace lowbit {

class ThreadPool;
struct Conv2dParams;

// ---------------------------------------------------------------- epilogue

enum class F32Activation : int { kNone = 0, kClip = 1, kHardSwish = 2, kHardSigmoid = 3 };

// The activation fused into a GEMM or convolution, applied in registers.
//  clip(min, max):          min(max(x, min), max)      (Relu = clip(0, +inf), Relu6 = clip(0, 6))
//  hardswish:               x * clip(x + 3, 0, 6) / 6  (ONNX HardSwish, and the Add/Clip/Mul/Div form)
//  hardsigmoid(alpha, beta): clip(alpha * x + beta, 0, 1)
struct F32Epilogue {
  F32Activation kind = F32Activation::kNone;
  float min = -std::numeric_limits<float>::infinity();
  float max = std::numeric_limits<float>::infinity();
  float alpha = 0.2f;
  float beta = 0.5f;
};

// The definition every path follows (SIMD paths multiply by 1/6 instead of
// dividing by 6: at most one ulp apart).
inline float f32_activate(const F32Epilogue& e, float x) {
  switch (e.kind) {
    case F32Activation::kNone: return x;
    case F32Activation::kClip: return x < e.min ? e.min : (x > e.max ? e.max : x);
    case F32Activation::kHardSwish: {
      float t = x + 3.0f;
      t = t < 0.0f ? 0.0f : (t > 6.0f ? 6.0f : t);
      return x * t / 6.0f;
    }
    case F32Activation::kHardSigmoid: {
      const float t = e.alpha * x + e.beta;
      return t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
    }
  }
  return x;
}

// ---------------------------------------------------------------- packed B

// B [K x N] in column panels of `nr` floats (the last panel is nr/2 wide when
// at most nr/2 columns are left), each panel K rows of its width, zero-padded
// past N; bias padded to whole panels (zeros without a bias).
struct PackedF32Matrix {
  size_t k = 0;
  size_t n = 0;
  size_t nr = 0;
  bool has_bias = false;
  AlignedBuffer data;
  AlignedBuffer bias;

  size_t panel_count() const { return (n + nr - 1) / nr; }
  // Width (floats) of panel p as packed: nr, or nr/2 for a narrow last panel.
  size_t panel_width(size_t p) const {
    const size_t left = n - p * nr;
    return left > nr / 2 || nr < 2 ? nr : nr / 2;
  }
  const float* panel(size_t p) const { return static_cast<const float*>(data.data()) + p * nr * k; }
  const float* bias_at(size_t col) const { return static_cast<const float*>(bias.data()) + col; }
};

// Where a padding tap points in an indirection table: a zero row.
constexpr size_t kF32PaddingTap = SIZE_MAX;

// One GEMM call. n0 (the first column of a tile call) is a multiple of the path's nr.
struct F32GemmArgs {
  size_t m = 0;
  // Direct A (indirection == nullptr): row i at a + i * a_stride, K floats.
  const float* a = nullptr;
  size_t a_stride = 0;  // elements
  // Indirect A: row i is, for each tap t < ks, kc = K / ks floats at
  // a_base + indirection[i * ks + t] bytes, or zero[0..kc) for kF32PaddingTap.
  const size_t* indirection = nullptr;
  size_t ks = 1;
  const uint8_t* a_base = nullptr;
  const float* zero = nullptr;
  const PackedF32Matrix* b = nullptr;
  float* c = nullptr;
  size_t c_stride = 0;  // elements
  F32Epilogue epilogue;
};

// ---------------------------------------------------------------- depthwise

// Depthwise weights (one filter per channel, multiplier 1) in channel blocks of
// `cb`: [blocks][kh * kw][cb], zero past c; bias [blocks * cb].
struct PackedF32Depthwise {
  size_t c = 0;
  size_t kh = 0;
  size_t kw = 0;
  size_t cb = 0;
  AlignedBuffer weights;
  AlignedBuffer bias;

  size_t blocks() const { return (c + cb - 1) / cb; }
  const float* block_weights(size_t b) const { return static_cast<const float*>(weights.data()) + b * kh * kw * cb; }
  const float* block_bias(size_t b) const { return static_cast<const float*>(bias.data()) + b * cb; }
};

struct F32DepthwiseArgs {
  const Conv2dParams* p = nullptr;  // geometry (groups == c == m)
  size_t out_h = 0;
  size_t out_w = 0;
  const float* in = nullptr;        // [n, h, w, c]
  float* out = nullptr;             // [n, out_h, out_w, c]
  const PackedF32Depthwise* w = nullptr;
  F32Epilogue epilogue;
};

// ---------------------------------------------------------------- paths

// The fp32 kernels of one ISA. avx2 serves the avx2 and avxvnni kernel paths,
// avx512 serves avx512vnni and amx, neon serves neon and neondot.
struct F32Path {
  const char* name;
  bool (*supported)();
  size_t mr;  // row tile
  size_t nr;  // column panel width
  size_t cb;  // depthwise channel block
  // Rows [m0, m1) x columns [n0, n1) of a GEMM whose B was packed with nr.
  void (*gemm)(const F32GemmArgs& args, size_t m0, size_t m1, size_t n0, size_t n1);
  // Output rows [oh0, oh1) of image `image`, every channel.
  void (*depthwise)(const F32DepthwiseArgs& args, size_t image, size_t oh0, size_t oh1);
};

// The path serving a kernel path (ISA), falling back to ref when its kernels
// are not compiled in.
const F32Path& f32_path_for(Isa isa);
const F32Path& f32_ref_path();
// Every compiled path, ref first.
const std::vector<const F32Path*>& f32_paths();

// Packs B, element (k, n) at b[k * row_stride + n * col_stride] (so a
// transposed B is row_stride 1, col_stride K); bias is n values or null.
void pack_f32_matrix(const F32Path& path, const float* b, size_t k, size_t n, size_t row_stride,
                     size_t col_stride, const float* bias, PackedF32Matrix* out);

// The whole GEMM, split into tiles over `pool` when it is big enough (pool may be null).
void gemm_f32(const F32Path& path, const F32GemmArgs& args, ThreadPool* pool);

namespace ref {
// The ground truth: C = epilogue(bias + A * B) one element at a time, A [m x k]
// and B [k x n] row-major with strides; bias may be null.
void gemm_f32(size_t m, size_t n, size_t k, const float* a, size_t a_stride, const float* b,
              size_t b_stride, const float* bias, const F32Epilogue& e, float* c, size_t c_stride);
}  // namespace ref

}  // namespace lowbit
