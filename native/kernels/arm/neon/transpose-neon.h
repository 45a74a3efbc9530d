// Register-tile transposes for the NEON layout path: bytes in 16x16 (q
// registers) and 8x8 (d registers), 32-bit in 4x4, each by trn1/trn2 on
// doubling element sizes (every stage transposes 2x2 blocks of the previous
// stage's blocks); dense narrow sides of 2, 3 or 4 (an image's planes to
// NHWC and back) by the structure loads / stores vld2..4 / vst2..4. Pure data
// movement: bit-exact; reads exactly the elements it moves.
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

// One NEON vector of T (16 bytes) and its structure loads and stores.
template <typename T>
struct Lanes;
template <>
struct Lanes<uint8_t> {
  static constexpr size_t kN = 16;
  using V = uint8x16_t;
  static V load(const uint8_t* p) { return vld1q_u8(p); }
  static void store(uint8_t* p, V v) { vst1q_u8(p, v); }
  static void store2(uint8_t* p, const V* v) { vst2q_u8(p, (uint8x16x2_t{{v[0], v[1]}})); }
  static void store3(uint8_t* p, const V* v) { vst3q_u8(p, (uint8x16x3_t{{v[0], v[1], v[2]}})); }
  static void store4(uint8_t* p, const V* v) { vst4q_u8(p, (uint8x16x4_t{{v[0], v[1], v[2], v[3]}})); }
  static void load2(const uint8_t* p, V* v) {
    const uint8x16x2_t x = vld2q_u8(p);
    v[0] = x.val[0], v[1] = x.val[1];
  }
  static void load3(const uint8_t* p, V* v) {
    const uint8x16x3_t x = vld3q_u8(p);
    v[0] = x.val[0], v[1] = x.val[1], v[2] = x.val[2];
  }
  static void load4(const uint8_t* p, V* v) {
    const uint8x16x4_t x = vld4q_u8(p);
    v[0] = x.val[0], v[1] = x.val[1], v[2] = x.val[2], v[3] = x.val[3];
  }
};
template <>
struct Lanes<uint32_t> {
  static constexpr size_t kN = 4;
  using V = uint32x4_t;
  static V load(const uint32_t* p) { return vld1q_u32(p); }
  static void store(uint32_t* p, V v) { vst1q_u32(p, v); }
  static void store2(uint32_t* p, const V* v) { vst2q_u32(p, (uint32x4x2_t{{v[0], v[1]}})); }
  static void store3(uint32_t* p, const V* v) { vst3q_u32(p, (uint32x4x3_t{{v[0], v[1], v[2]}})); }
  static void store4(uint32_t* p, const V* v) { vst4q_u32(p, (uint32x4x4_t{{v[0], v[1], v[2], v[3]}})); }
  static void load2(const uint32_t* p, V* v) {
    const uint32x4x2_t x = vld2q_u32(p);
    v[0] = x.val[0], v[1] = x.val[1];
  }
  static void load3(const uint32_t* p, V* v) {
    const uint32x4x3_t x = vld3q_u32(p);
    v[0] = x.val[0], v[1] = x.val[1], v[2] = x.val[2];
  }
  static void load4(const uint32_t* p, V* v) {
    const uint32x4x4_t x = vld4q_u32(p);
    v[0] = x.val[0], v[1] = x.val[1], v[2] = x.val[2], v[3] = x.val[3];
  }
};

// dst[k * c + r] = src[r * ss + c], r < k (2..4), cols >= one vector; the last
// step overlaps the previous one (same values written twice).
template <typename T>
inline void interleave_rows(const T* src, size_t ss, T* dst, size_t k, size_t cols) {
  using L = Lanes<T>;
  typename L::V v[4];
  for (size_t c0 = 0; c0 < cols; c0 += L::kN) {
    const size_t c = c0 + L::kN <= cols ? c0 : cols - L::kN;
    for (size_t r = 0; r < k; ++r) v[r] = L::load(src + r * ss + c);
    if (k == 2) L::store2(dst + 2 * c, v);
    else if (k == 3) L::store3(dst + 3 * c, v);
    else L::store4(dst + 4 * c, v);
  }
}

// dst[c * ds + r] = src[k * r + c], c < k (2..4), rows >= one vector.
template <typename T>
inline void split_cols(const T* src, T* dst, size_t ds, size_t k, size_t rows) {
  using L = Lanes<T>;
  typename L::V v[4];
  for (size_t r0 = 0; r0 < rows; r0 += L::kN) {
    const size_t r = r0 + L::kN <= rows ? r0 : rows - L::kN;
    if (k == 2) L::load2(src + 2 * r, v);
    else if (k == 3) L::load3(src + 3 * r, v);
    else L::load4(src + 4 * r, v);
    for (size_t c = 0; c < k; ++c) L::store(dst + c * ds + r, v[c]);
  }
}

// 2..4 dense rows (ds == rows) or dense columns (ss == cols) with the other
// side at least one vector; false for anything else.
template <typename T>
inline bool transpose_narrow(const T* src, size_t ss, T* dst, size_t ds, size_t rows, size_t cols) {
  constexpr size_t kN = Lanes<T>::kN;
  if (ds == rows && rows >= 2 && rows <= 4 && cols >= kN) {
    interleave_rows(src, ss, dst, rows, cols);
    return true;
  }
  if (ss == cols && cols >= 2 && cols <= 4 && rows >= kN) {
    split_cols(src, dst, ds, cols, rows);
    return true;
  }
  return false;
}

}  // namespace neon
}  // namespace lowbit
