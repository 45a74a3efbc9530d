// int8 GEMM microkernel, 4 rows x 4 columns, K in blocks of 16, plain NEON.
// A'' (A ^ flip, int8) times B' (int8): SMULL/SMULL2 give 8 int16 products each
// (|product| <= 128 * 128 = 2^14, so int16 holds it), and SADALP adds them in
// pairs straight into int32. No int16 sum of two products is ever formed: that
// sum (up to 2^15) is what would saturate with SMLAL.
#include "kernels-neon.h"

// GCC's pre-allocation scheduler hoists the independent multiplies of the
// unrolled block ahead of their accumulates and then spills accumulators;
// without it the loop keeps everything in the 32 vector registers.
#pragma GCC optimize("no-schedule-insns")

namespace lowbit {
namespace neon {
namespace {

// acc[r][c] += A''[r] . B'[c] over one 16-byte K block (4 partial sums per lane group).
LOWBIT_ARM_INLINE void multiply_accumulate_block(int32x4_t (&acc)[4][4],
                                                 const int8x16_t (&va)[4], const int8_t* w) {
  const int8x16x4_t b = vld1q_s8_x4(w);  // 16 K values of each of the 4 columns
#pragma GCC unroll 4
  for (size_t c = 0; c < 4; ++c) {
    // Four independent products before their accumulates, so an in-order core
    // (Cortex-A53) does not wait on each SMULL's latency.
    int16x8_t product[4];
#pragma GCC unroll 4
    for (size_t r = 0; r < 4; ++r) product[r] = vmull_s8(vget_low_s8(va[r]), vget_low_s8(b.val[c]));
#pragma GCC unroll 4
    for (size_t r = 0; r < 4; ++r) acc[r][c] = vpadalq_s16(acc[r][c], product[r]);
#pragma GCC unroll 4
    for (size_t r = 0; r < 4; ++r) product[r] = vmull_high_s8(va[r], b.val[c]);
#pragma GCC unroll 4
    for (size_t r = 0; r < 4; ++r) acc[r][c] = vpadalq_s16(acc[r][c], product[r]);
  }
}

LOWBIT_ARM_INLINE void load_rows(int8x16_t (&va)[4], const uint8_t* const (&a)[4],
                                 uint8x16_t flip) {
#pragma GCC unroll 4
  for (size_t r = 0; r < 4; ++r) va[r] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(a[r]), flip));
}

}  // namespace

void qs8_gemm_4x4c16__neon_mull_padal(const arm::GemmTile<kMr, kNr>& t) {
  const uint8x16_t flip = vdupq_n_u8(t.a_flip);
  int32x4_t acc[4][4];
#pragma GCC unroll 4
  for (size_t r = 0; r < 4; ++r)
#pragma GCC unroll 4
    for (size_t c = 0; c < 4; ++c) acc[r][c] = vdupq_n_s32(0);

  const uint8_t* a[4] = {t.a[0], t.a[1], t.a[2], t.a[3]};
  const int8_t* w = t.b;
  int8x16_t va[4];
  for (size_t kb = t.k_blocks; kb != 0; --kb) {
    load_rows(va, a, flip);
#pragma GCC unroll 4
    for (size_t r = 0; r < 4; ++r) a[r] += arm::kKBlock;
    multiply_accumulate_block(acc, va, w);
    w += arm::kKBlock * kNr;
  }
  if (t.k_tail) {
    const uint8_t* tail[4] = {t.a_tail[0], t.a_tail[1], t.a_tail[2], t.a_tail[3]};
    load_rows(va, tail, flip);
    multiply_accumulate_block(acc, va, w);
  }

  // Fold each column's four partial sums: {c0, c1, c2, c3} per row.
  int32x4_t dot[4][1];
#pragma GCC unroll 4
  for (size_t r = 0; r < 4; ++r) {
    dot[r][0] = vpaddq_s32(vpaddq_s32(acc[r][0], acc[r][1]), vpaddq_s32(acc[r][2], acc[r][3]));
  }
  arm::output_tile(dot, t);
}

}  // namespace neon
}  // namespace lowbit
