// 32-bit transpose in 8x8 register blocks (AVX: unpack, shuffle, lane swap),
// for the AVX2 and AVX-512 layout paths, and both widths' dense 3- and 4-row
// interleaves. Pure data movement: bit-exact.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "../../common/transpose-small.h"
#include "lowbit/layout.h"
#include "transpose-interleave-avx.h"

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

// A rows x cols block in 8x8 register blocks; the edges element by element.
inline void transpose_32_avx(const uint32_t* src, size_t ss, uint32_t* dst, size_t ds, size_t rows, size_t cols) {
  if (transpose_interleave_32(src, ss, dst, ds, rows, cols)) return;
  if (layout::transpose_few_rows(src, ss, dst, ds, rows, cols)) return;
  size_t r = 0;
  for (; r + 8 <= rows; r += 8) {
    size_t c = 0;
    for (; c + 8 <= cols; c += 8) transpose_8x8_32(src + r * ss + c, ss, dst + c * ds + r, ds);
    for (; c < cols; ++c) {
      for (size_t i = r; i < r + 8; ++i) dst[c * ds + i] = src[i * ss + c];
    }
  }
  layout::transpose_few_rows(src + r * ss, ss, dst + r, ds, rows - r, cols);
}

// Bytes: the interleaves, else ref's tiled loop.
inline void transpose_8_avx(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds, size_t rows, size_t cols) {
  if (transpose_interleave_8(src, ss, dst, ds, rows, cols)) return;
  ref::transpose_8(src, ss, dst, ds, rows, cols);
}

}  // namespace x86
}  // namespace lowbit
