// Register-tile transposes for the NEON layout path: bytes in 16x16 (q
// registers) and 8x8 (d registers), 32-bit in 4x4, each by trn1/trn2 on
// doubling element sizes (every stage transposes 2x2 blocks of the previous
// stage's blocks). Pure data movement: bit-exact; each tile reads exactly its
// own elements of each source row.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

namespace lowbit {
namespace neon {

// dst[c * ds + r] = src[r * ss + c], r, c < 16.
inline void transpose_16x16_8(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds) {
  uint8x16_t r[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = vld1q_u8(src + i * ss);
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    const uint8x16_t a = vtrn1q_u8(r[i], r[i + 1]), b = vtrn2q_u8(r[i], r[i + 1]);
    r[i] = a;
    r[i + 1] = b;
  }
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    const int i = (k / 2) * 4 + k % 2;
    const uint16x8_t x = vreinterpretq_u16_u8(r[i]), y = vreinterpretq_u16_u8(r[i + 2]);
    r[i] = vreinterpretq_u8_u16(vtrn1q_u16(x, y));
    r[i + 2] = vreinterpretq_u8_u16(vtrn2q_u16(x, y));
  }
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    const int i = (k / 4) * 8 + k % 4;
    const uint32x4_t x = vreinterpretq_u32_u8(r[i]), y = vreinterpretq_u32_u8(r[i + 4]);
    r[i] = vreinterpretq_u8_u32(vtrn1q_u32(x, y));
    r[i + 4] = vreinterpretq_u8_u32(vtrn2q_u32(x, y));
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    const uint64x2_t x = vreinterpretq_u64_u8(r[i]), y = vreinterpretq_u64_u8(r[i + 8]);
    vst1q_u8(dst + i * ds, vreinterpretq_u8_u64(vtrn1q_u64(x, y)));
    vst1q_u8(dst + (i + 8) * ds, vreinterpretq_u8_u64(vtrn2q_u64(x, y)));
  }
}

// dst[c * ds + r] = src[r * ss + c], r, c < 8.
inline void transpose_8x8_8(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds) {
  uint8x8_t r[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = vld1_u8(src + i * ss);
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    const uint8x8_t a = vtrn1_u8(r[i], r[i + 1]), b = vtrn2_u8(r[i], r[i + 1]);
    r[i] = a;
    r[i + 1] = b;
  }
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const int i = (k / 2) * 4 + k % 2;
    const uint16x4_t x = vreinterpret_u16_u8(r[i]), y = vreinterpret_u16_u8(r[i + 2]);
    r[i] = vreinterpret_u8_u16(vtrn1_u16(x, y));
    r[i + 2] = vreinterpret_u8_u16(vtrn2_u16(x, y));
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const uint32x2_t x = vreinterpret_u32_u8(r[i]), y = vreinterpret_u32_u8(r[i + 4]);
    vst1_u8(dst + i * ds, vreinterpret_u8_u32(vtrn1_u32(x, y)));
    vst1_u8(dst + (i + 4) * ds, vreinterpret_u8_u32(vtrn2_u32(x, y)));
  }
}

// dst[c * ds + r] = src[r * ss + c], r, c < 4.
inline void transpose_4x4_32(const uint32_t* s, size_t ss, uint32_t* d, size_t ds) {
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

}  // namespace neon
}  // namespace lowbit
