// Byte transposes in 16x16 and 8x8 register tiles (unpack networks on 8, 16
// and 32 bits, then one 64-bit lane permute), for the AVX2 and AVX-512 layout
// paths. Pure data movement: bit-exact. Each tile reads exactly its own 16 or
// 8 bytes of each source row.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace lowbit {
namespace x86 {

// dst[c * ds + r] = src[r * ss + c], r, c < 16. Source rows i and i + 8 share
// a ymm, so the three unpack stages (lane-wise) run on both halves at once;
// then each ymm holds two destination columns' rows 0-7 and 8-15 as 64-bit
// quarters, put in order by one permute.
inline void transpose_16x16_8(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds) {
  __m256i y[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    y[i] = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(src + (i + 8) * ss),
                               reinterpret_cast<const __m128i*>(src + i * ss));
  }
  // 16-bit units: column k of rows (2p, 2p + 1); a[2p] columns 0-7, a[2p + 1] columns 8-15.
  __m256i a[8];
#pragma GCC unroll 4
  for (int p = 0; p < 4; ++p) {
    a[2 * p] = _mm256_unpacklo_epi8(y[2 * p], y[2 * p + 1]);
    a[2 * p + 1] = _mm256_unpackhi_epi8(y[2 * p], y[2 * p + 1]);
  }
  // 32-bit units: rows 0-3 (b[0..3]) and 4-7 (b[4..7]), columns 0-3, 4-7, 8-11, 12-15.
  __m256i b[8];
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
    const __m256i* s = a + 4 * h;
    b[4 * h] = _mm256_unpacklo_epi16(s[0], s[2]);
    b[4 * h + 1] = _mm256_unpackhi_epi16(s[0], s[2]);
    b[4 * h + 2] = _mm256_unpacklo_epi16(s[1], s[3]);
    b[4 * h + 3] = _mm256_unpackhi_epi16(s[1], s[3]);
  }
  // 64-bit units: lo holds columns 4k, 4k + 1, hi 4k + 2, 4k + 3 (rows 0-7 in lane 0, 8-15 in lane 1).
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    const __m256i lo = _mm256_unpacklo_epi32(b[k], b[k + 4]);
    const __m256i hi = _mm256_unpackhi_epi32(b[k], b[k + 4]);
    // Quarters (col j rows 0-7, col j+1 rows 0-7, col j rows 8-15, col j+1 rows 8-15) -> 0, 2, 1, 3.
    const __m256i p0 = _mm256_permute4x64_epi64(lo, 0xD8);
    const __m256i p1 = _mm256_permute4x64_epi64(hi, 0xD8);
    _mm256_storeu2_m128i(reinterpret_cast<__m128i*>(dst + (4 * k + 1) * ds), reinterpret_cast<__m128i*>(dst + 4 * k * ds),
                         p0);
    _mm256_storeu2_m128i(reinterpret_cast<__m128i*>(dst + (4 * k + 3) * ds),
                         reinterpret_cast<__m128i*>(dst + (4 * k + 2) * ds), p1);
  }
}

// dst[c * ds + r] = src[r * ss + c], r, c < 8.
inline void transpose_8x8_8(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds) {
  __m128i x[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) x[i] = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i * ss));
  // 16-bit units: column k of rows (2p, 2p + 1).
  const __m128i a0 = _mm_unpacklo_epi8(x[0], x[1]), a1 = _mm_unpacklo_epi8(x[2], x[3]);
  const __m128i a2 = _mm_unpacklo_epi8(x[4], x[5]), a3 = _mm_unpacklo_epi8(x[6], x[7]);
  // 32-bit units: rows 0-3 / 4-7 of columns 0-3 (lo) and 4-7 (hi).
  const __m128i b0 = _mm_unpacklo_epi16(a0, a1), b1 = _mm_unpackhi_epi16(a0, a1);
  const __m128i b2 = _mm_unpacklo_epi16(a2, a3), b3 = _mm_unpackhi_epi16(a2, a3);
  // 64-bit units: two destination rows per register.
  const __m128i c[4] = {_mm_unpacklo_epi32(b0, b2), _mm_unpackhi_epi32(b0, b2), _mm_unpacklo_epi32(b1, b3),
                        _mm_unpackhi_epi32(b1, b3)};
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(dst + 2 * k * ds), c[k]);
    _mm_storeh_pd(reinterpret_cast<double*>(dst + (2 * k + 1) * ds), _mm_castsi128_pd(c[k]));
  }
}

}  // namespace x86
}  // namespace lowbit
