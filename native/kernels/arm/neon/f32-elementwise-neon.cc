// Elementwise kernels with NEON (AArch64): the shared vector code
// (../../common/f32-elementwise-impl.h) on 4-lane q registers, and an 8-bit
// table lookup with tbl/tbx over four 64-byte quarters of the table.
#include <arm_neon.h>

#include "../../common/f32-elementwise-impl.h"

namespace lowbit {
namespace neon {
namespace {

using V = simd::VecNeon;

// tbl answers indices 0..63 from the first quarter (0 elsewhere); each tbx
// answers its quarter's range after subtracting its base and leaves other
// bytes (index >= 64 after the subtraction, wrapping) unchanged.
void lut8(const uint8_t* table, const uint8_t* x, uint8_t* out, size_t n) {
  const uint8x16x4_t q0 = vld1q_u8_x4(table), q1 = vld1q_u8_x4(table + 64);
  const uint8x16x4_t q2 = vld1q_u8_x4(table + 128), q3 = vld1q_u8_x4(table + 192);
  const uint8x16_t k64 = vdupq_n_u8(64);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    uint8x16_t idx = vld1q_u8(x + i);
    uint8x16_t r = vqtbl4q_u8(q0, idx);
    idx = vsubq_u8(idx, k64);
    r = vqtbx4q_u8(r, q1, idx);
    idx = vsubq_u8(idx, k64);
    r = vqtbx4q_u8(r, q2, idx);
    idx = vsubq_u8(idx, k64);
    r = vqtbx4q_u8(r, q3, idx);
    vst1q_u8(out + i, r);
  }
  for (; i < n; ++i) out[i] = table[x[i]];
}

}  // namespace

extern const ElementwisePath kElementwisePath = {
    Isa::kNeon, simd::binary_f32_rows<V>, ref::binary_s32_rows, simd::unary_f32<V>, lut8, simd::affine_f32<V>,
};

}  // namespace neon
}  // namespace lowbit
