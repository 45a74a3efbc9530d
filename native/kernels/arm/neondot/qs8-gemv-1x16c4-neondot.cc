// int8 GEMV microkernel (one row of A), 16 columns, K in groups of 4, Armv8.2
// SDOT. Even and odd K groups accumulate into separate registers so that
// consecutive SDOTs into one register do not serialise on its latency.
#include "kernels-neondot.h"

// GCC's pre-allocation scheduler reorders the unrolled block's loads and SDOTs
// and then spills accumulators; without it the loop keeps everything in the 32
// vector registers.
#pragma GCC optimize("no-schedule-insns")

namespace lowbit {
namespace neondot {
namespace {

template <int G>
LOWBIT_ARM_INLINE void dot_group(int32x4_t (&acc)[4], int8x16_t va, const int8_t*& w) {
  // Columns 0-3, 4-7, 8-11, 12-15; advancing w lets LD1 post-increment it.
  const int8x16x4_t vb = vld1q_s8_x4(w);
  w += 64;
  acc[0] = vdotq_laneq_s32(acc[0], vb.val[0], va, G);
  acc[1] = vdotq_laneq_s32(acc[1], vb.val[1], va, G);
  acc[2] = vdotq_laneq_s32(acc[2], vb.val[2], va, G);
  acc[3] = vdotq_laneq_s32(acc[3], vb.val[3], va, G);
}

LOWBIT_ARM_INLINE void dot_block(int32x4_t (&even)[4], int32x4_t (&odd)[4], const uint8_t* a,
                                 uint8x16_t flip, const int8_t*& w) {
  const int8x16_t va = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(a), flip));
  dot_group<0>(even, va, w);
  dot_group<1>(odd, va, w);
  dot_group<2>(even, va, w);
  dot_group<3>(odd, va, w);
}

}  // namespace

void qs8_gemv_1x16c4__neondot(const arm::GemmTile<1, kNr>& t) {
  const uint8x16_t flip = vdupq_n_u8(t.a_flip);
  int32x4_t even[4], odd[4];
#pragma GCC unroll 4
  for (size_t v = 0; v < 4; ++v) even[v] = odd[v] = vdupq_n_s32(0);

  const uint8_t* a = t.a[0];
  const int8_t* w = t.b;
  for (size_t kb = t.k_blocks; kb != 0; --kb) {
    dot_block(even, odd, a, flip, w);  // advances w by one block
    a += arm::kKBlock;
  }
  if (t.k_tail) dot_block(even, odd, t.a_tail[0], flip, w);

  // A fresh array: taking the accumulators' address would keep them in memory.
  const int32x4_t dot[1][4] = {{vaddq_s32(even[0], odd[0]), vaddq_s32(even[1], odd[1]),
                                vaddq_s32(even[2], odd[2]), vaddq_s32(even[3], odd[3])}};
  arm::output_tile(dot, t);
}

}  // namespace neondot
}  // namespace lowbit
