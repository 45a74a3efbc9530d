// Data movement with NEON: 32-bit transposes in 4x4 register blocks (trn1/trn2
// on 32 then 64 bits), the resize weighted sum on q registers.
#include <arm_neon.h>

#include "../../common/f32-layout-impl.h"
#include "../../common/transpose-small.h"

namespace lowbit {
namespace neon {
namespace {

inline void transpose_4x4(const uint32_t* s, size_t ss, uint32_t* d, size_t ds) {
  const uint32x4_t r0 = vld1q_u32(s), r1 = vld1q_u32(s + ss), r2 = vld1q_u32(s + 2 * ss), r3 = vld1q_u32(s + 3 * ss);
  const uint32x4_t t0 = vtrn1q_u32(r0, r1), t1 = vtrn2q_u32(r0, r1);
  const uint32x4_t t2 = vtrn1q_u32(r2, r3), t3 = vtrn2q_u32(r2, r3);
  const uint64x2_t a0 = vreinterpretq_u64_u32(t0), a1 = vreinterpretq_u64_u32(t1);
  const uint64x2_t a2 = vreinterpretq_u64_u32(t2), a3 = vreinterpretq_u64_u32(t3);
  vst1q_u32(d, vreinterpretq_u32_u64(vtrn1q_u64(a0, a2)));
  vst1q_u32(d + ds, vreinterpretq_u32_u64(vtrn1q_u64(a1, a3)));
  vst1q_u32(d + 2 * ds, vreinterpretq_u32_u64(vtrn2q_u64(a0, a2)));
  vst1q_u32(d + 3 * ds, vreinterpretq_u32_u64(vtrn2q_u64(a1, a3)));
}

void transpose_32(const uint32_t* src, size_t ss, uint32_t* dst, size_t ds, size_t rows, size_t cols) {
  if (rows < 4) {
    layout::transpose_few_rows(src, ss, dst, ds, rows, cols);
    return;
  }
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    size_t c = 0;
    for (; c + 4 <= cols; c += 4) transpose_4x4(src + r * ss + c, ss, dst + c * ds + r, ds);
    for (; c < cols; ++c) {
      for (size_t i = r; i < r + 4; ++i) dst[c * ds + i] = src[i * ss + c];
    }
  }
  layout::transpose_few_rows(src + r * ss, ss, dst + r, ds, rows - r, cols);
}

}  // namespace

extern const LayoutPath kLayoutPath = {Isa::kNeon, transpose_32, ref::transpose_8,
                                       simd::weighted_sum_f32<simd::VecNeon>};

}  // namespace neon
}  // namespace lowbit
