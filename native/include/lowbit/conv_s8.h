// Int8 2-D convolution, channels-last (ONNX ConvInteger / QLinearConv semantics):
//   acc[n][oy][ox][m] = sum over c in group(m), taps (ky, kx) inside the image of
//       (x[n][iy][ix][c] - x_zero_point) * (w[m][c - g*Cg][ky][kx] - w_zero_point[m])
// x: uint8 or int8 [N, H, W, C] with a per-tensor zero point; w: int8 or uint8 in
// ONNX layout [M, C/groups, kh, kw] with a per-tensor or per-output-channel zero
// point, packed once; padded taps read the activation zero point, so they add 0.
// Output [N, OH, OW, M]: the int32 accumulators, or requantize_one of them.
//
// How it runs (chosen when the weights are packed):
//  - depthwise (groups == C == M): the dedicated kernel of lowbit/depthwise_s8.h;
//  - 1x1, stride 1, no padding: one GEMM per group straight over the input rows
//    (N*H*W rows of C bytes; a group is a column offset with the row stride C);
//  - few output channels (lowbit/conv_s8_small_m.h: one group, m <= 16,
//    requantized, x86): the vector runs over output pixels of a padded copy
//    of the input;
//  - otherwise im2col: chunks of output pixels are gathered into rows of
//    K = kh*kw*Cg bytes (taps outer, channels inner; padded taps filled with the
//    zero point) in thread-local scratch, then one GEMM per group and chunk.
// The GEMM is the int8 GEMM path of lowbit/gemm.h (its output stage does the
// per-channel requantization, bias and clamp), so every path is bit-identical
// to ref::conv_s8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "lowbit/conv_s8_small_m.h"
#include "lowbit/depthwise_s8.h"
#include "lowbit/gemm.h"

namespace lowbit {

// Convolution weights packed for one ISA.
struct PackedConvS8 {
  Isa isa = Isa::kRef;
  size_t m = 0, cg = 0, kh = 0, kw = 0, groups = 1;
  bool w_signed = true;
  std::vector<int32_t> zero_point;  // as given: empty, 1 or m values
  bool depthwise = false;
  // GEMM form, one matrix per group: B_g[K][M/groups], K = (ky*kw + kx)*Cg + c.
  std::vector<PackedMatrix> group_b;
  PackedDepthwise dw;
  bool small_m = false;  // the small-m kernels may run (also packed as group_b for other calls)
  PackedSmallM sm;

  size_t channels() const { return cg * groups; }  // input channels C
  size_t group_m() const { return m / groups; }
  size_t k() const { return kh * kw * cg; }
};

// w: [m][cg][kh][kw] (ONNX). m must be a multiple of groups.
void pack_conv_s8(Isa isa, const void* w, bool w_signed, size_t m, size_t cg, size_t kh, size_t kw,
                  size_t groups, const std::vector<int32_t>& zero_point, PackedConvS8* out);

// Everything about one call that is known before the data: shapes, geometry,
// zero point and output stage, in the form the kernels read. Prepared once per
// recorded step (or per immediate call), read-only while running, so one plan
// can serve concurrent runs.
struct ConvS8Plan {
  size_t n = 0, h = 0, w = 0, c = 0, oh = 0, ow = 0;
  Conv2dGeometry geometry;
  bool x_signed = false;
  int32_t x_zero_point = 0;
  bool requantized = false;              // 8-bit output, else int32
  bool direct = false;                   // 1x1/stride 1/no padding: no im2col
  std::vector<Requantization> group_rq;  // GEMM form: one output stage per group
  DepthwiseParams dw;                    // depthwise form
  bool small_m = false;                  // small-m form: its output stage, padded-image shape
  SmallMParams sm;
  size_t sm_pitch = 0, sm_hp = 0;
};

// rq == nullptr: int32 output; its parameters hold 1 or m values.
void prepare_conv_s8(const PackedConvS8& w, size_t n, size_t h, size_t wd, const Conv2dGeometry& g,
                     bool x_signed, int32_t x_zero_point, const Requantization* rq, ConvS8Plan* out);

class ThreadPool;
// x: [n, h, w, c]; out: [n, oh, ow, m] int32 or 8-bit. pool may be nullptr.
void conv_s8(const PackedConvS8& w, const ConvS8Plan& plan, const void* x, void* out, ThreadPool* pool);

namespace ref {

// The ground truth: the formula above evaluated directly from ONNX-layout weights.
// zero_point: w_zero_point_count = 0 (none), 1 or m values; rq == nullptr: int32 out.
void conv_s8(size_t n, size_t h, size_t wd, size_t c, const void* x, bool x_signed,
             int32_t x_zero_point, const void* w, bool w_signed, size_t m, size_t groups,
             const int32_t* w_zero_point, size_t w_zero_point_count, const Conv2dGeometry& g,
             const Requantization* rq, void* out);

}  // namespace ref
}  // namespace lowbit
