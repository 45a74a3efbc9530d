// Int8 depthwise 2-D convolution, channels-last, with a fused output stage.
//
// One output channel per input channel (ONNX Conv/QLinearConv/ConvInteger with
// group == C and M == C):
//   acc[n][oy][ox][c] = sum over taps (ky, kx) inside the image of
//                       (x[n][iy][ix][c] - x_zero_point) * (w[c][ky][kx] - w_zero_point[c])
//   iy = oy*stride_h - pad_top + ky*dilation_h,  ix = ox*stride_w - pad_left + kx*dilation_w
// Taps in the padding contribute nothing (they read the activation zero point).
// x is uint8 or int8 [N, H, W, C]; w is int8 or uint8 in ONNX layout [C, 1, kh, kw],
// packed once per path. Accumulation is exact int32 (every product fits: both
// differences are within [-255, 255]), wrapping like ref only past ~33000 taps.
// The output is the int32 accumulator (ConvInteger) or lowbit::requantize_one of
// it (bias, fp32 or fixedpoint scale, per tensor or per channel, clamp), [N, OH, OW, C].
// Every path is bit-identical to ref.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lowbit/aligned_buffer.h"
#include "lowbit/cpu.h"
#include "lowbit/requantize.h"

namespace lowbit {

// Kernel size, padding, strides and dilations of a 2-D convolution.
struct Conv2dGeometry {
  size_t kh = 1, kw = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  size_t stride_h = 1, stride_w = 1;
  size_t dilation_h = 1, dilation_w = 1;

  // Output extent for an input extent (ONNX, floor rounding); 0 when the
  // dilated kernel does not fit the padded input.
  static size_t out_extent(size_t in, size_t pad_begin, size_t pad_end, size_t k, size_t stride,
                           size_t dilation) {
    const size_t span = dilation * (k - 1) + 1;
    const size_t padded = in + pad_begin + pad_end;
    return padded < span ? 0 : (padded - span) / stride + 1;
  }
  size_t out_h(size_t h) const { return out_extent(h, pad_top, pad_bottom, kh, stride_h, dilation_h); }
  size_t out_w(size_t w) const { return out_extent(w, pad_left, pad_right, kw, stride_w, dilation_w); }
  size_t taps() const { return kh * kw; }
};

// Depthwise weights in one path's layout. Channels are padded to `cp` (a
// multiple of 64) with zero weights, so the kernels never mask a weight load.
struct PackedDepthwise {
  Isa isa = Isa::kRef;
  size_t channels = 0;
  size_t kh = 0, kw = 0;
  bool w_signed = true;
  std::vector<int32_t> zero_point;  // as given: empty, 1 or `channels` values
  size_t cp = 0;                    // padded channel count
  int layout = 0;                   // path-specific variant of `data` (0 = the path's general one)
  // Where a path's weights for whole-row kernels (stride and dilation 1 along W)
  // start in `data`, in bytes; 0: none packed.
  size_t rows_offset = 0;
  // sum over taps of (w - w_zero_point) per channel (cp values, 0 past channels):
  // the part of the zero-point correction that depends on the weights only.
  std::vector<int32_t> weight_sum;
  AlignedBuffer data;               // path layout of (w - w_zero_point)
};

enum class DepthwiseOutput : int { kInt32 = 0, kFp32 = 1, kFixedpoint = 2 };

// Per-call constants of one depthwise convolution (activation zero point and
// output stage), prepared once per recorded step, in the layout every path reads:
// per-channel arrays of cp values (per-tensor parameters broadcast).
struct DepthwiseParams {
  DepthwiseOutput kind = DepthwiseOutput::kInt32;
  bool out_signed = false;
  int32_t x_zero_point = 0;
  Requantization rq;                  // as given (ref reads it)
  int32_t zero_point = 0, qmin = 0, qmax = 0;
  float lo = 0, hi = 0;               // fp32 clamp before the zero point (as requantize_one)
  bool hardswish = false;             // fp32: hardswish_steps(x, hardswish_k) before the clamp
  float hardswish_k = 0;
  std::vector<int32_t> init;          // bias - x_zero_point * weight_sum (wrapping)
  // The arrays below and `init` are in natural channel order unless the path's
  // finish_params rearranged them (see DepthwisePath).
  std::vector<float> scale;           // fp32
  std::vector<int32_t> multiplier;    // fixedpoint
  std::vector<int32_t> left_shift;    //   max(shift, 0)
  std::vector<int32_t> right_shift;   //   max(-shift, 0)
  std::vector<int32_t> round_mask;    //   2^right_shift - 1
  std::vector<int32_t> neg_right_shift;  // -right_shift (ARM SRSHL count)
  std::vector<uint8_t> padding_row;   // cp + 64 bytes of x_zero_point: what padded taps read
};

// One call: input [n, h, w, c], output [n, oh, ow, c].
struct DepthwiseArgs {
  const void* x = nullptr;
  bool x_signed = false;
  size_t n = 0, h = 0, w = 0, c = 0;
  Conv2dGeometry geometry;
  size_t oh = 0, ow = 0;
  const PackedDepthwise* weights = nullptr;
  const DepthwiseParams* params = nullptr;
  void* out = nullptr;  // int32 (kInt32) or 8-bit elements
};

struct DepthwisePath {
  Isa isa;
  size_t channel_block;  // channels per register block (for documentation and tests)
  // w: [channels][taps] as ONNX lays it out; zero_point: empty, 1 or channels values.
  void (*pack)(const void* w, bool w_signed, size_t channels, size_t kh, size_t kw,
               const std::vector<int32_t>& zero_point, PackedDepthwise* out);
  // Output rows [row_begin, row_end) of the n*oh rows.
  void (*run)(const DepthwiseArgs& args, size_t row_begin, size_t row_end);
  // Optional: rearranges the per-channel arrays of prepared params into the
  // order this path's kernels read them in for this geometry (nullptr: natural
  // channel order).
  void (*finish_params)(const PackedDepthwise& w, bool x_signed, const Conv2dGeometry& g,
                        DepthwiseParams* params);
};

// The depthwise path for a GEMM path's ISA: avxvnni runs the avx2 kernels, amx
// the avx512vnni ones, neondot the neon ones. Never nullptr (ref at worst).
const DepthwisePath& depthwise_path(Isa isa);
const DepthwisePath& depthwise_ref_path();

void pack_depthwise(const DepthwisePath& path, const void* w, bool w_signed, size_t channels,
                    size_t kh, size_t kw, const std::vector<int32_t>& zero_point,
                    PackedDepthwise* out);

// rq == nullptr: int32 output. rq's parameters hold 1 or `channels` values.
// The result is for the path `w` was packed for, activations of that
// signedness and that geometry (its kernel size must be w's).
void prepare_depthwise(const PackedDepthwise& w, const Requantization* rq, int32_t x_zero_point,
                       bool x_signed, const Conv2dGeometry& g, DepthwiseParams* out);

class ThreadPool;
// The whole convolution, split over output rows (pool may be nullptr: one thread).
void depthwise_conv(const DepthwisePath& path, const DepthwiseArgs& args, ThreadPool* pool);

}  // namespace lowbit
