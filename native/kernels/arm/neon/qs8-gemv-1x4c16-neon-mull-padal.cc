// int8 GEMV microkernel (one row of A), 4 columns, K in blocks of 16, plain NEON.
// Same arithmetic as the 4x4c16 kernel (SMULL/SMULL2 + SADALP, no int16 sums);
// the low and high halves of each block go to separate accumulators so that
// no SADALP waits on the previous one.
#include "kernels-neon.h"

// GCC's pre-allocation scheduler hoists the independent multiplies of the
// unrolled block ahead of their accumulates and then spills accumulators;
// without it the loop keeps everything in the 32 vector registers.
#pragma GCC optimize("no-schedule-insns")

namespace lowbit {
namespace neon {
namespace {

LOWBIT_ARM_INLINE void multiply_accumulate_block(int32x4_t (&lo)[4], int32x4_t (&hi)[4],
                                                 int8x16_t va, const int8_t* w) {
  const int8x16x4_t b = vld1q_s8_x4(w);  // 16 K values of each of the 4 columns
  // All eight products first, then their accumulates: no SADALP waits on the
  // SMULL right before it (in-order cores such as Cortex-A53).
  int16x8_t product_lo[4], product_hi[4];
#pragma GCC unroll 4
  for (size_t c = 0; c < 4; ++c) {
    product_lo[c] = vmull_s8(vget_low_s8(va), vget_low_s8(b.val[c]));
    product_hi[c] = vmull_high_s8(va, b.val[c]);
  }
#pragma GCC unroll 4
  for (size_t c = 0; c < 4; ++c) {
    lo[c] = vpadalq_s16(lo[c], product_lo[c]);
    hi[c] = vpadalq_s16(hi[c], product_hi[c]);
  }
}

}  // namespace

void qs8_gemv_1x4c16__neon_mull_padal(const arm::GemmTile<1, kNr>& t) {
  const uint8x16_t flip = vdupq_n_u8(t.a_flip);
  int32x4_t lo[4], hi[4];
#pragma GCC unroll 4
  for (size_t c = 0; c < 4; ++c) lo[c] = hi[c] = vdupq_n_s32(0);

  const uint8_t* a = t.a[0];
  const int8_t* w = t.b;
  for (size_t kb = t.k_blocks; kb != 0; --kb) {
    const int8x16_t va = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(a), flip));
    a += arm::kKBlock;
    multiply_accumulate_block(lo, hi, va, w);
    w += arm::kKBlock * kNr;
  }
  if (t.k_tail) {
    const int8x16_t va = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(t.a_tail[0]), flip));
    multiply_accumulate_block(lo, hi, va, w);
  }

#pragma GCC unroll 4
  for (size_t c = 0; c < 4; ++c) lo[c] = vaddq_s32(lo[c], hi[c]);
  const int32x4_t dot[1][1] = {{vpaddq_s32(vpaddq_s32(lo[0], lo[1]), vpaddq_s32(lo[2], lo[3]))}};
  arm::output_tile(dot, t);
}

}  // namespace neon
}  // namespace lowbit
