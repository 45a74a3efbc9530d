// 32-bit transpose in 8x8 register blocks (AVX: unpack, shuffle, lane swap)
// and 4x4 (SSE), the byte tiles of transpose-8bit-avx.h, both widths' dense
// 3- and 4-row interleaves: the AVX2 and AVX-512 layout path entries. Pure
// data movement: bit-exact.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "../../common/transpose-small.h"
#include "../../common/transpose-tiles.h"
#include "lowbit/layout.h"
#include "transpose-8bit-avx.h"
#include "transpose-interleave-avx.h"
#include "transpose-narrow-avx.h"

namespace lowbit {
namespace x86 {

// dst[c * ds + r] = src[r * ss + c], r < 8, c < 8.
inline void transpose_8x8_32(const uint32_t* src, size_t ss, uint32_t* dst, size_t ds) {
  const float* s = reinterpret_cast<const float*>(src);
  float* d = reinterpret_cast<float*>(dst);
  const __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ss), r2 = _mm256_loadu_ps(s + 2 * ss),
               r3 = _mm256_loadu_ps(s + 3 * ss), r4 = _mm256_loadu_ps(s + 4 * ss), r5 = _mm256_loadu_ps(s + 5 * ss),
               r6 = _mm256_loadu_ps(s + 6 * ss), r7 = _mm256_loadu_ps(s + 7 * ss);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(d + ds, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(d + 2 * ds, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(d + 3 * ds, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(d + 4 * ds, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(d + 5 * ds, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(d + 6 * ds, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(d + 7 * ds, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// dst[c * ds + r] = src[r * ss + c], r < 4, c < 4.
inline void transpose_4x4_32(const uint32_t* src, size_t ss, uint32_t* dst, size_t ds) {
  const float* s = reinterpret_cast<const float*>(src);
  float* d = reinterpret_cast<float*>(dst);
  const __m128 r0 = _mm_loadu_ps(s), r1 = _mm_loadu_ps(s + ss), r2 = _mm_loadu_ps(s + 2 * ss),
               r3 = _mm_loadu_ps(s + 3 * ss);
  const __m128 t0 = _mm_unpacklo_ps(r0, r1), t1 = _mm_unpackhi_ps(r0, r1);
  const __m128 t2 = _mm_unpacklo_ps(r2, r3), t3 = _mm_unpackhi_ps(r2, r3);
  _mm_storeu_ps(d, _mm_movelh_ps(t0, t2));
  _mm_storeu_ps(d + ds, _mm_movehl_ps(t2, t0));
  _mm_storeu_ps(d + 2 * ds, _mm_movelh_ps(t1, t3));
  _mm_storeu_ps(d + 3 * ds, _mm_movehl_ps(t3, t1));
}

// A rows x cols block: dense sides of 2 or 3 by permutes (the 3-row
// interleave in transpose-interleave-avx.h), else 8x8 register tiles (4x4
// when a side is 4..7), edges by overlapping tiles; fewer than 4 rows or
// columns element by element.
inline void transpose_32_avx(const uint32_t* src, size_t ss, uint32_t* dst, size_t ds, size_t rows, size_t cols) {
  if (transpose_interleave_32(src, ss, dst, ds, rows, cols)) return;
  if (transpose_narrow_32(src, ss, dst, ds, rows, cols)) return;
  if (rows < 4) {
    layout::transpose_few_rows(src, ss, dst, ds, rows, cols);
  } else if (cols < 4) {
    layout::transpose_few_cols(src, ss, dst, ds, rows, cols);
  } else if (rows >= 8 && cols >= 8) {
    layout::transpose_overlapped<8, 8>(src, ss, dst, ds, rows, cols, transpose_8x8_32);
  } else {
    layout::transpose_overlapped<4, 4>(src, ss, dst, ds, rows, cols, transpose_4x4_32);
  }
}

// Bytes: the dense 3- and 4-row interleaves, other dense sides of 2..7
// (transpose-narrow-avx.h), else 16x16 register tiles (8x8
// when a side is 8..15), edges by overlapping tiles; fewer than 8 rows or
// columns element by element.
inline void transpose_8_avx(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds, size_t rows, size_t cols) {
  if (transpose_interleave_8(src, ss, dst, ds, rows, cols)) return;
  if (transpose_narrow_8(src, ss, dst, ds, rows, cols)) return;
  if (rows < 8) {
    layout::transpose_few_rows(src, ss, dst, ds, rows, cols);
  } else if (cols < 8) {
    layout::transpose_few_cols(src, ss, dst, ds, rows, cols);
  } else if (rows >= 16 && cols >= 16) {
    layout::transpose_overlapped<16, 16>(src, ss, dst, ds, rows, cols, transpose_16x16_8);
  } else {
    layout::transpose_overlapped<8, 8>(src, ss, dst, ds, rows, cols, transpose_8x8_8);
  }
}

}  // namespace x86
}  // namespace lowbit
