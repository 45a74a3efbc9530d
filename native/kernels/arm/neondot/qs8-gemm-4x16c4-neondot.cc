// int8 GEMM microkernel, 4 rows x 16 columns, K in groups of 4, Armv8.2 SDOT.
// SDOT multiplies int8 by int8 and adds four products into each int32 lane
// exactly (no intermediate rounding or saturation). uint8 A goes through the
// same A ^ 0x80 trick as the plain-NEON path (see ../common/gemm-driver.h), so
// mixed-sign products never occur: the correction is in the column offsets.
#include "kernels-neondot.h"

// GCC's pre-allocation scheduler reorders the unrolled block's loads and SDOTs
// and then spills accumulators; without it the loop keeps everything in the 32
// vector registers.
#pragma GCC optimize("no-schedule-insns")

namespace lowbit {
namespace neondot {
namespace {

// K group G (0..3) of a 16-byte block: lane G of each row's A'' register times
// the 16 columns' 4 bytes of that group.
template <int G>
LOWBIT_ARM_INLINE void dot_group(int32x4_t (&acc)[4][4], const int8x16_t (&va)[4],
                                 const int8_t*& w) {
  // Columns 0-3, 4-7, 8-11, 12-15; advancing w lets LD1 post-increment it.
  const int8x16x4_t vb = vld1q_s8_x4(w);
  w += 64;
#pragma GCC unroll 4
  for (size_t r = 0; r < 4; ++r)
#pragma GCC unroll 4
    for (size_t v = 0; v < 4; ++v) acc[r][v] = vdotq_laneq_s32(acc[r][v], vb.val[v], va[r], G);
}

LOWBIT_ARM_INLINE void dot_block(int32x4_t (&acc)[4][4], const uint8_t* const (&a)[4],
                                 uint8x16_t flip, const int8_t*& w) {
  int8x16_t va[4];
#pragma GCC unroll 4
  for (size_t r = 0; r < 4; ++r) va[r] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(a[r]), flip));
  dot_group<0>(acc, va, w);
  dot_group<1>(acc, va, w);
  dot_group<2>(acc, va, w);
  dot_group<3>(acc, va, w);
}

}  // namespace

void qs8_gemm_4x16c4__neondot(const arm::GemmTile<kMr, kNr>& t) {
  const uint8x16_t flip = vdupq_n_u8(t.a_flip);
  int32x4_t acc[4][4];
#pragma GCC unroll 4
  for (size_t r = 0; r < 4; ++r)
#pragma GCC unroll 4
    for (size_t v = 0; v < 4; ++v) acc[r][v] = vdupq_n_s32(0);

  const uint8_t* a[4] = {t.a[0], t.a[1], t.a[2], t.a[3]};
  const int8_t* w = t.b;
  for (size_t kb = t.k_blocks; kb != 0; --kb) {
    dot_block(acc, a, flip, w);  // advances w by one block
#pragma GCC unroll 4
    for (size_t r = 0; r < 4; ++r) a[r] += arm::kKBlock;
  }
  if (t.k_tail) {
    const uint8_t* tail[4] = {t.a_tail[0], t.a_tail[1], t.a_tail[2], t.a_tail[3]};
    dot_block(acc, tail, flip, w);
  }

  // Lane i of acc[r][v] is column 4v + i already: no horizontal reduction. Copied
  // to a fresh array: taking the accumulators' address would keep them in memory.
  int32x4_t dot[4][4];
#pragma GCC unroll 4
  for (size_t r = 0; r < 4; ++r)
#pragma GCC unroll 4
    for (size_t v = 0; v < 4; ++v) dot[r][v] = acc[r][v];
  arm::output_tile(dot, t);
}

}  // namespace neondot
}  // namespace lowbit
