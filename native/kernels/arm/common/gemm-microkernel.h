// What an ARM int8 GEMM microkernel is given (GemmTile) and how it finishes a
// row (output_row, output_tile), shared by the neon and neondot kernels:
// zero-point correction of the raw s8 x s8 dot products, then int32 output or
// requantization to uint8/int8 (HardSwish included) bit-exact to
// lowbit::requantize_one.
//
// The functions here have internal linkage (anonymous namespace): each ISA folder
// is compiled with its own -march, and an inline function shared by both must not
// be merged across them by the linker (the plain-NEON path could end up running a
// copy built for armv8.2). The structs are plain data and are shared.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lowbit/requantize.h"

// For the kernels' block helpers: GCC's heuristics would otherwise leave some
// out of the unrolled loop body, and a call there costs more than the block.
#define LOWBIT_ARM_INLINE __attribute__((always_inline)) inline

namespace lowbit {
namespace arm {

enum class OutputKind { kInt32, kUint8, kInt8 };

// Per call: what the microkernels write and the per-tensor output parameters.
struct OutputStage {
  OutputKind kind = OutputKind::kInt32;
  RequantMode mode = RequantMode::kFp32;
  int32_t zero_point = 0;
  int32_t qmin = 0;
  int32_t qmax = 0;
  float lo = 0.0f;  // fp32 clamp bounds, before the zero point (as requantize_one)
  float hi = 0.0f;
  bool hardswish = false;  // fp32: hardswish_steps(x, hardswish_k) before the clamp
  float hardswish_k = 0.0f;
};

// Per panel of NR columns, prepared by the driver once per panel and row chunk,
// so the kernels only load vectors. Columns past the matrix hold zeros.
template <size_t NR>
struct PanelParams {
  // bias - za * colsum(B') + K * za * zb', in wrapping int32 (see gemm-driver.h)
  alignas(16) int32_t column_offset[NR];
  alignas(16) int32_t zero_point_b[NR];  // zb', multiplies each row's sum of A
  alignas(16) int32_t multiplier[NR];    // fixedpoint mode
  alignas(16) int32_t left_shift[NR];    // max(shift, 0)
  alignas(16) int32_t right_shift[NR];   // min(shift, 0): a negative count for SRSHL
  alignas(16) float scale[NR];           // fp32 mode
};

// Every ARM kernel consumes K in blocks of 16 bytes per row (one q register).
constexpr size_t kKBlock = 16;

// One microkernel call: up to MR rows by one panel of NR columns.
template <size_t MR, size_t NR>
struct GemmTile {
  size_t rows = 0;          // valid rows (1..MR); rows past it alias the last valid one
  size_t k_blocks = 0;      // whole 16-byte blocks read straight from A
  bool k_tail = false;      // then one more block from a_tail (zero-padded copy)
  uint8_t a_flip = 0;       // 0x80 for uint8 A, 0 for int8 A: A ^ a_flip is A''
  const uint8_t* a[MR] = {};
  const uint8_t* a_tail[MR] = {};
  int32_t row_sum[MR] = {};  // sum of A''[row] over the real K
  const int8_t* b = nullptr;  // the packed panel [K/kr][NR][kr]
  const PanelParams<NR>* params = nullptr;
  const OutputStage* out = nullptr;
  void* c[MR] = {};          // row starts at the panel's first column
  size_t columns = 0;        // valid columns (1..NR)
};

namespace {

// fixedpoint::rounding_divide_by_pot on four lanes, exactly; `negative_exponent`
// holds -exponent (0..-31), the count SRSHL wants for a right shift.
inline int32x4_t rounding_divide_by_pot(int32x4_t x, int32x4_t negative_exponent) {
  // SRSHL by a negative count rounds ties up (toward +infinity); RoundingDivideByPOT
  // rounds them away from zero. Stepping a negative value down by one first turns
  // one into the other. The sign bit of (x & count) is set only when x < 0 and the
  // exponent is non-zero; the saturating add keeps INT32_MIN at INT32_MIN, whose
  // quotient is exact anyway.
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, negative_exponent), 31);
  return vrshlq_s32(vqaddq_s32(x, fixup), negative_exponent);
}

// fixedpoint::multiply_by_quantized_multiplier on four lanes, exactly.
inline int32x4_t multiply_by_quantized_multiplier(int32x4_t x, int32x4_t multiplier,
                                                  int32x4_t left_shift, int32x4_t right_shift) {
  // SSHL by a positive count drops the high bits: the wrapping left shift of the reference.
  x = vshlq_s32(x, left_shift);
  // SQRDMULH computes (2ab + 2^31) >> 32 and saturates INT32_MIN * INT32_MIN: that is
  // gemmlowp's SaturatingRoundingDoublingHighMul, ties toward +infinity included.
  x = vqrdmulhq_s32(x, multiplier);
  return rounding_divide_by_pot(x, right_shift);
}

// The reference's clamp `y < lo ? lo : (y > hi ? hi : y)`, lane-wise. Written with
// selects rather than min/max so that it agrees even for an inverted range.
inline int32x4_t clamp_like_reference(int32x4_t y, int32x4_t lo, int32x4_t hi) {
  const int32x4_t upper = vbslq_s32(vcgtq_s32(y, hi), hi, y);
  return vbslq_s32(vcltq_s32(y, lo), lo, upper);
}

inline float32x4_t clamp_like_reference(float32x4_t x, float32x4_t lo, float32x4_t hi) {
  const float32x4_t upper = vbslq_f32(vcgtq_f32(x, hi), hi, x);
  return vbslq_f32(vcltq_f32(x, lo), lo, upper);
}

// hardswish_steps on four lanes: the same operations in the same order, each one
// float32 rounding. FMUL and FADD stay separate (the build passes
// -ffp-contract=off, so the compiler does not fuse them into FMLA). FMIN/FMAX
// equal the reference's selects here: t is never NaN (x is finite) and never
// -0 (t = x*k + 0.5 rounds an exact zero sum to +0).
inline float32x4_t hardswish_steps(float32x4_t x, float k) {
  float32x4_t t = vmulq_f32(x, vdupq_n_f32(k));
  t = vaddq_f32(t, vdupq_n_f32(0.5f));
  t = vminq_f32(t, vdupq_n_f32(1.0f));
  t = vmaxq_f32(t, vdupq_n_f32(0.0f));
  return vmulq_f32(x, t);
}

// requantize_one without the bias (already in the column offset), four lanes.
// kHardSwish must equal out.hardswish (fp32 mode): callers choose the variant
// once per tile, so the plain stage carries no HardSwish test per vector.
template <bool kHardSwish = false>
inline int32x4_t requantize(int32x4_t acc, const OutputStage& out, const int32_t* multiplier,
                            const int32_t* left_shift, const int32_t* right_shift,
                            const float* scale) {
  if (out.mode == RequantMode::kFixedpoint) {
    int32x4_t y = multiply_by_quantized_multiplier(acc, vld1q_s32(multiplier),
                                                   vld1q_s32(left_shift), vld1q_s32(right_shift));
    y = vaddq_s32(y, vdupq_n_s32(out.zero_point));  // wrapping, as the reference
    return clamp_like_reference(y, vdupq_n_s32(out.qmin), vdupq_n_s32(out.qmax));
  }
  // SCVTF and FMUL round to nearest even like the scalar int->float and float*float;
  // FCVTNS is nearbyint under the default rounding mode (ties to even).
  float32x4_t x = vmulq_f32(vcvtq_f32_s32(acc), vld1q_f32(scale));
  if constexpr (kHardSwish) x = hardswish_steps(x, out.hardswish_k);
  x = clamp_like_reference(x, vdupq_n_f32(out.lo), vdupq_n_f32(out.hi));
  return vaddq_s32(vcvtnq_s32_f32(x), vdupq_n_s32(out.zero_point));
}

// Finishes one row of a tile: `dot` holds NV vectors of raw dot products
// dot(A''[row], B'[:, col]) for 4*NV consecutive columns. Writes `columns`
// (<= 4*NV) outputs at `c` in the stage's output type. kHardSwish: as requantize.
template <size_t NV, bool kHardSwish = false>
inline void output_row(const int32x4_t* dot, const PanelParams<4 * NV>& p,
                       const OutputStage& out, int32_t row_sum, void* c, size_t columns) {
  constexpr size_t kCols = 4 * NV;
  int32x4_t y[NV];
  for (size_t v = 0; v < NV; ++v) {
    // C = dot + column_offset - zb' * rowsum(A''): the zero-point correction of pack.h.
    y[v] = vmlsq_n_s32(vaddq_s32(dot[v], vld1q_s32(p.column_offset + 4 * v)),
                       vld1q_s32(p.zero_point_b + 4 * v), row_sum);
  }
  if (out.kind == OutputKind::kInt32) {
    if (columns == kCols) {
      for (size_t v = 0; v < NV; ++v) vst1q_s32(static_cast<int32_t*>(c) + 4 * v, y[v]);
    } else {
      int32_t tmp[kCols];
      for (size_t v = 0; v < NV; ++v) vst1q_s32(tmp + 4 * v, y[v]);
      std::memcpy(c, tmp, columns * sizeof(int32_t));
    }
    return;
  }
  for (size_t v = 0; v < NV; ++v) {
    y[v] = requantize<kHardSwish>(y[v], out, p.multiplier + 4 * v, p.left_shift + 4 * v,
                                  p.right_shift + 4 * v, p.scale + 4 * v);
  }
  // XTN keeps the low bits: the reference's static_cast to uint8_t / int8_t.
  if constexpr (NV == 1) {
    const int16x4_t h = vmovn_s32(y[0]);
    const int8x8_t b = vmovn_s16(vcombine_s16(h, h));
    if (columns == kCols) {
      const uint32_t word = vget_lane_u32(vreinterpret_u32_s8(b), 0);
      std::memcpy(c, &word, sizeof(word));
    } else {
      int8_t tmp[8];
      vst1_s8(tmp, b);
      std::memcpy(c, tmp, columns);
    }
  } else {
    static_assert(NV % 4 == 0, "8-bit stores are written 16 columns at a time");
    for (size_t v = 0; v < NV; v += 4) {
      const int16x8_t h01 = vcombine_s16(vmovn_s32(y[v]), vmovn_s32(y[v + 1]));
      const int16x8_t h23 = vcombine_s16(vmovn_s32(y[v + 2]), vmovn_s32(y[v + 3]));
      const int8x16_t b = vcombine_s8(vmovn_s16(h01), vmovn_s16(h23));
      const size_t first = 4 * v;
      if (columns >= first + 16) {
        vst1q_s8(static_cast<int8_t*>(c) + first, b);
      } else if (columns > first) {
        int8_t tmp[16];
        vst1q_s8(tmp, b);
        std::memcpy(static_cast<int8_t*>(c) + first, tmp, columns - first);
      }
    }
  }
}

// Finishes the tile's valid rows: dot[r] holds row r's NV vectors. The
// HardSwish variant is picked here, once per tile, outside every loop.
template <size_t MR, size_t NV>
LOWBIT_ARM_INLINE void output_tile(const int32x4_t (&dot)[MR][NV], const GemmTile<MR, 4 * NV>& t) {
  if (t.out->hardswish) {
    for (size_t r = 0; r < t.rows; ++r) {
      output_row<NV, true>(dot[r], *t.params, *t.out, t.row_sum[r], t.c[r], t.columns);
    }
  } else {
    for (size_t r = 0; r < t.rows; ++r) {
      output_row<NV, false>(dot[r], *t.params, *t.out, t.row_sum[r], t.c[r], t.columns);
    }
  }
}

}  // namespace
}  // namespace arm
}  // namespace lowbit
