// fp32 2-D convolution and transposed convolution, channels-last (NHWC), with
// ONNX semantics (Conv, ConvTranspose) and a fused epilogue (gemm_f32.h).
//
// Activations are [N, H, W, C]; weights come in ONNX layout and are packed once:
// Conv [M, C/groups, kh, kw], ConvTranspose [C, M/groups, kh, kw]. Outputs are
// [N, OH, OW, M]. How each case runs:
//  - depthwise (groups == C == M): its own kernel per path, channels in blocks,
//    taps unrolled over a run of output pixels, no copy of the input;
//  - 1x1, stride 1, no padding: one GEMM over the N*H*W pixels (per group);
//  - anything else: an indirect GEMM (igemm) over a table of input-row offsets
//    per output pixel and tap, planned once per input shape (ConvF32Plan), with
//    a zero row for taps in the padding (with few channels, per filter row over
//    a copy of the input padded left and right);
//  - ConvTranspose: a GEMM per run of input pixels into [pixels, kh*kw*M/g]
//    columns, then col2im adds them into the output (started from the bias), in
//    a fixed order; the epilogue is applied last.
// Every output element is computed one way whatever the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "lowbit/aligned_buffer.h"
#include "lowbit/gemm_f32.h"

namespace lowbit {

class ThreadPool;

// Geometry of one call. Conv: input [n, h, w, c], output channels m, filter
// kh x kw, groups dividing c and m. ConvTranspose: the same fields, plus
// out_pad (ONNX output_padding).
struct Conv2dParams {
  size_t n = 1, h = 0, w = 0, c = 0;
  size_t m = 0;
  size_t kh = 1, kw = 1;
  size_t groups = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;
  size_t out_pad_h = 0, out_pad_w = 0;
};

// Output extent of a convolution along one axis; 0 when the padded input is
// shorter than the dilated filter.
inline size_t conv_out_extent(size_t in, size_t k, size_t pad0, size_t pad1, size_t stride, size_t dilation) {
  const size_t span = (k - 1) * dilation + 1;
  const size_t padded = in + pad0 + pad1;
  return padded < span ? 0 : (padded - span) / stride + 1;
}

// Output extent of a transposed convolution along one axis:
// stride * (in - 1) + out_pad + (k - 1) * dilation + 1 - pad0 - pad1; 0 when that is not positive.
inline size_t conv_transpose_out_extent(size_t in, size_t k, size_t pad0, size_t pad1, size_t stride,
                                        size_t dilation, size_t out_pad) {
  if (in == 0) return 0;
  const size_t full = stride * (in - 1) + out_pad + (k - 1) * dilation + 1;
  return full <= pad0 + pad1 ? 0 : full - pad0 - pad1;
}

// ---------------------------------------------------------------- Conv

struct PackedConvF32 {
  const F32Path* path = nullptr;
  size_t m = 0, cg = 0, kh = 0, kw = 0, groups = 1;
  bool depthwise = false;
  PackedF32Depthwise dw;                 // depthwise
  std::vector<PackedF32Matrix> group_b;  // otherwise: per group, K = kh*kw*cg (tap-major), N = m/groups
};

// weights [m][cg][kh][kw] (ONNX), bias m values or null.
void pack_conv2d_f32(const F32Path& path, const float* weights, const float* bias, size_t m, size_t cg,
                     size_t kh, size_t kw, size_t groups, PackedConvF32* out);

// What a convolution needs per input shape, planned once: the geometry, and
// for the igemm case the table of input offsets (bytes from the input's start,
// kF32PaddingTap for padding) per output pixel and tap, and a zero row.
struct ConvF32Plan {
  Conv2dParams p;
  size_t out_h = 0, out_w = 0;
  enum class Kind { kDepthwise, kGemm, kIgemm } kind = Kind::kGemm;
  // kIgemm with few channels (groups 1, dilation_w 1): the input is copied into
  // rows padded left and right to padded_w pixels, so one filter row's kw taps
  // are kw * c contiguous floats: one table entry per output pixel and kh.
  size_t padded_w = 0;              // 0: entries per tap, straight from the input
  size_t taps = 0;                  // table entries per output pixel
  std::vector<size_t> indirection;  // [n * out_h * out_w][taps]
  AlignedBuffer zero;               // one tap's floats
};

// The geometry must match the packed weights (c == cg * groups, m, kh, kw,
// groups) and give a non-empty output; the binding checks that first.
void plan_conv2d_f32(const PackedConvF32& packed, const Conv2dParams& p, ConvF32Plan* plan);

// out [n, out_h, out_w, m] = epilogue(conv(in) + bias).
void conv2d_f32(const PackedConvF32& packed, const ConvF32Plan& plan, const float* in, float* out,
                const F32Epilogue& e, ThreadPool* pool);

// ---------------------------------------------------------------- ConvTranspose

struct PackedConvTransposeF32 {
  const F32Path* path = nullptr;
  size_t c = 0, mg = 0, kh = 0, kw = 0, groups = 1;
  std::vector<PackedF32Matrix> group_b;  // per group: K = c/groups, N = kh*kw*mg (tap-major, channel inner)
  std::vector<float> bias;               // m = mg * groups values (zeros without a bias)
};

// weights [c][mg][kh][kw] (ONNX ConvTranspose), bias mg * groups values or null.
void pack_conv_transpose2d_f32(const F32Path& path, const float* weights, const float* bias, size_t c,
                               size_t mg, size_t kh, size_t kw, size_t groups, PackedConvTransposeF32* out);

// out [n, out_h, out_w, m]; out_h/out_w from conv_transpose_out_extent.
void conv_transpose2d_f32(const PackedConvTransposeF32& packed, const Conv2dParams& p, const float* in,
                          float* out, const F32Epilogue& e, ThreadPool* pool);

namespace ref {
// The ground truth, straight from the ONNX definitions over unpacked weights.
// Conv: weights [m][c/groups][kh][kw]; out [n, OH, OW, m].
void conv2d_f32(const Conv2dParams& p, const float* in, const float* weights, const float* bias,
                const F32Epilogue& e, float* out);
// ConvTranspose: weights [c][m/groups][kh][kw]; out [n, OH, OW, m].
void conv_transpose2d_f32(const Conv2dParams& p, const float* in, const float* weights, const float* bias,
                          const F32Epilogue& e, float* out);
}  // namespace ref

}  // namespace lowbit
