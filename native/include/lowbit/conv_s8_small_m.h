// Int8 convolution with few output channels (a network's stem: 8 or 16 output
// channels over an image's 3, K = 27): the GEMM's column tile (16-32 output
// channels) would be mostly empty, so these kernels run the vector over output
// pixels instead, and loop over the (few) output channels.
//
// How it computes (same formula as lowbit/conv_s8.h, exactly):
//   acc = sum_k x_eff[k] * w_eff[k] + init,  init = bias - za_eff * sum_k w_eff[k]
// x_eff = x (uint8) or x XOR 0x80 (int8, so za_eff = zx + 128), w_eff = w - zw,
// which must fit int8 (always for symmetric weights; otherwise the GEMM path
// runs). The input is first copied into a padded image (x_eff bytes, padding =
// za_eff, so padded taps add za_eff * w - the init term cancels it: exact).
// K is laid out per kernel row: the kw*C contiguous bytes of one input row,
// in groups of 4 (the last group of a row zero-weighted past kw*C), so a
// block of PX output pixels is gathered as [group][PX][4 bytes] and one
// vpdpbusd (u8 x s8, 4 products per lane, exact) per group and channel adds
// into a vector of PX pixels of that channel. The output stage is
// requantize_one's (fp32 or fixedpoint, per tensor or per channel).
//
// Applies (see small_m_applies) to one group, m <= 16, dilation 1 along W,
// requantized output, kh * ceil(kw*C/4) <= kMaxGroups. x86 only (avx2,
// avxvnni, avx512vnni, amx); other paths keep the im2col GEMM.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lowbit/aligned_buffer.h"
#include "lowbit/cpu.h"
#include "lowbit/depthwise_s8.h"
#include "lowbit/requantize.h"

namespace lowbit {

constexpr size_t kSmallMMaxChannels = 16;
constexpr size_t kSmallMMaxGroups = 64;  // K groups of 4 bytes: the gathered block stays on the stack
constexpr size_t kSmallMSlack = 128;     // bytes after the padded image a kernel may read (never used)

// Weights in the layout every small-m kernel reads.
struct PackedSmallM {
  size_t m = 0;
  size_t mp = 0;       // channels padded to 4, 8 or 16 (zero weights)
  size_t kh = 0, kw = 0, c = 0;
  size_t nq = 0;       // 4-byte groups per kernel row: ceil(kw * c / 4)
  size_t groups = 0;   // kh * nq
  AlignedBuffer w8;    // [groups][mp][4] int8 w_eff
  AlignedBuffer w16;   // [groups][mp][4] int16 w_eff (the AVX2 kernel's vpmaddwd operand)
  std::vector<int32_t> weight_sum;  // mp values: sum over K of w_eff
};

// Per-call constants: the output stage as per-channel arrays of mp values.
struct SmallMParams {
  bool fp32 = true;    // else fixedpoint
  uint8_t pad = 0;     // za_eff: the padded image's fill byte
  bool x_signed = false;
  int32_t zero_point = 0, qmin = 0, qmax = 0;
  float lo = 0, hi = 0;  // fp32 clamp before the zero point (as requantize_one)
  bool hardswish = false;  // fp32: hardswish_steps(x, hardswish_k) before the clamp
  float hardswish_k = 0;
  std::vector<int32_t> init;  // bias - za_eff * weight_sum (wrapping)
  std::vector<float> scale;
  std::vector<int32_t> multiplier, left_shift, right_shift, round_mask;
};

// One call: the padded image and the output rows to compute.
struct SmallMArgs {
  const PackedSmallM* w = nullptr;
  const SmallMParams* params = nullptr;
  const uint8_t* padded = nullptr;  // [n][hp][pitch] x_eff bytes, padding = za_eff
  size_t pitch = 0;                 // bytes per padded row ((w + pads) * c; kSmallMSlack after the last)
  size_t hp = 0;                    // padded rows per image
  size_t oh = 0, ow = 0, m = 0;
  size_t stride_h = 1, stride_w = 1, dilation_h = 1;
  void* out = nullptr;              // [n][oh][ow][m] 8-bit
};

struct SmallMPath {
  Isa isa;
  // Output rows [row_begin, row_end) of n * oh.
  void (*run)(const SmallMArgs& a, size_t row_begin, size_t row_end);
};

// The kernel for an ISA, or nullptr (the caller keeps its general path).
const SmallMPath* small_m_path(Isa isa);

// Whether the weights suit the small-m kernels (the geometry is checked per call).
bool small_m_applies(Isa isa, const void* w, bool w_signed, size_t m, size_t cg, size_t kh, size_t kw,
                     size_t groups, const std::vector<int32_t>& zero_point);
void pack_small_m(const void* w, bool w_signed, size_t m, size_t c, size_t kh, size_t kw,
                  const std::vector<int32_t>& zero_point, PackedSmallM* out);
void prepare_small_m(const PackedSmallM& w, const Requantization& rq, bool x_signed, int32_t x_zero_point,
                     SmallMParams* out);

}  // namespace lowbit
