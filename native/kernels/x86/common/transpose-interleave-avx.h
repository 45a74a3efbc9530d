// Transposes of 3 or 4 source rows into a dense destination (ds == rows): an
// image's RGB / RGBA planes interleaved, NCHW -> NHWC at a graph's input. The
// generic few-rows loop moves one element per store; these interleave 16
// bytes or 8 floats of every row per step with in-register shuffles. Pure data
// movement (bit-exact); reads exactly `cols` elements of each row. AVX2 only,
// for the AVX2 and AVX-512 layout paths.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace lowbit {
namespace x86 {

// dst[3c + r] = src[r * ss + c] (bytes), r < 3.
inline void interleave3_8(const uint8_t* src, size_t ss, uint8_t* dst, size_t cols) {
  const uint8_t* s0 = src;
  const uint8_t* s1 = src + ss;
  const uint8_t* s2 = src + 2 * ss;
  // Output byte 3c + r of a 48-byte step comes from row r, column c: per
  // output vector, the bytes each row contributes (-1: zero, filled by another row).
  const __m128i a0 = _mm_setr_epi8(0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1, 5);
  const __m128i b0 = _mm_setr_epi8(-1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1);
  const __m128i c0 = _mm_setr_epi8(-1, -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1);
  const __m128i a1 = _mm_setr_epi8(-1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10, -1);
  const __m128i b1 = _mm_setr_epi8(5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10);
  const __m128i c1 = _mm_setr_epi8(-1, 5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1);
  const __m128i a2 = _mm_setr_epi8(-1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1, -1);
  const __m128i b2 = _mm_setr_epi8(-1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1);
  const __m128i c2 = _mm_setr_epi8(10, -1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15);
  size_t c = 0;
  for (; c + 16 <= cols; c += 16, dst += 48) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s0 + c));
    const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s1 + c));
    const __m128i z = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s2 + c));
    const __m128i o0 = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(x, a0), _mm_shuffle_epi8(y, b0)),
                                    _mm_shuffle_epi8(z, c0));
    const __m128i o1 = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(x, a1), _mm_shuffle_epi8(y, b1)),
                                    _mm_shuffle_epi8(z, c1));
    const __m128i o2 = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(x, a2), _mm_shuffle_epi8(y, b2)),
                                    _mm_shuffle_epi8(z, c2));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), o0);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), o1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), o2);
  }
  for (; c < cols; ++c, dst += 3) {
    dst[0] = s0[c];
    dst[1] = s1[c];
    dst[2] = s2[c];
  }
}

// dst[4c + r] = src[r * ss + c] (bytes), r < 4.
inline void interleave4_8(const uint8_t* src, size_t ss, uint8_t* dst, size_t cols) {
  const uint8_t* s[4] = {src, src + ss, src + 2 * ss, src + 3 * ss};
  size_t c = 0;
  for (; c + 16 <= cols; c += 16, dst += 64) {
    const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s[0] + c));
    const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s[1] + c));
    const __m128i x2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s[2] + c));
    const __m128i x3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s[3] + c));
    const __m128i p01lo = _mm_unpacklo_epi8(x0, x1), p01hi = _mm_unpackhi_epi8(x0, x1);
    const __m128i p23lo = _mm_unpacklo_epi8(x2, x3), p23hi = _mm_unpackhi_epi8(x2, x3);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi16(p01lo, p23lo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm_unpackhi_epi16(p01lo, p23lo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_unpacklo_epi16(p01hi, p23hi));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 48), _mm_unpackhi_epi16(p01hi, p23hi));
  }
  for (; c < cols; ++c, dst += 4) {
    for (size_t r = 0; r < 4; ++r) dst[r] = s[r][c];
  }
}

// dst[3c + r] = src[r * ss + c] (4-byte elements), r < 3. Per 128-bit lane,
// 4 columns of the 3 rows become 3 vectors of 4 ([a0 b0 c0 a1] [b1 c1 a2 b2]
// [c2 a3 b3 c3]); the two lanes' results are then put in order.
inline void interleave3_32(const uint32_t* src, size_t ss, uint32_t* dst, size_t cols) {
  const float* s0 = reinterpret_cast<const float*>(src);
  const float* s1 = s0 + ss;
  const float* s2 = s0 + 2 * ss;
  float* d = reinterpret_cast<float*>(dst);
  size_t c = 0;
  for (; c + 8 <= cols; c += 8, d += 24) {
    const __m256 a = _mm256_loadu_ps(s0 + c), b = _mm256_loadu_ps(s1 + c), z = _mm256_loadu_ps(s2 + c);
    const __m256 ab_lo = _mm256_unpacklo_ps(a, b);  // a0 b0 a1 b1
    const __m256 ab_hi = _mm256_unpackhi_ps(a, b);  // a2 b2 a3 b3
    const __m256 ca = _mm256_shuffle_ps(z, ab_lo, _MM_SHUFFLE(2, 2, 0, 0));   // c0 c0 a1 a1
    const __m256 o0 = _mm256_shuffle_ps(ab_lo, ca, _MM_SHUFFLE(2, 0, 1, 0));  // a0 b0 c0 a1
    const __m256 bc = _mm256_shuffle_ps(ab_lo, z, _MM_SHUFFLE(1, 1, 3, 3));   // b1 b1 c1 c1
    const __m256 o1 = _mm256_shuffle_ps(bc, ab_hi, _MM_SHUFFLE(1, 0, 2, 0));  // b1 c1 a2 b2
    const __m256 cy = _mm256_shuffle_ps(z, ab_hi, _MM_SHUFFLE(3, 2, 2, 2));   // c2 c2 a3 b3
    const __m256 bz = _mm256_shuffle_ps(ab_hi, z, _MM_SHUFFLE(3, 3, 3, 3));   // b3 b3 c3 c3
    const __m256 o2 = _mm256_shuffle_ps(cy, bz, _MM_SHUFFLE(2, 0, 2, 0));     // c2 a3 b3 c3
    // Lane 0 holds columns 0-3 (floats 0-11), lane 1 columns 4-7 (floats 12-23).
    _mm256_storeu_ps(d, _mm256_permute2f128_ps(o0, o1, 0x20));
    _mm256_storeu_ps(d + 8, _mm256_permute2f128_ps(o2, o0, 0x30));
    _mm256_storeu_ps(d + 16, _mm256_permute2f128_ps(o1, o2, 0x31));
  }
  for (; c < cols; ++c) {
    dst[3 * c] = src[c];
    dst[3 * c + 1] = src[ss + c];
    dst[3 * c + 2] = src[2 * ss + c];
  }
}

// dst[4c + r] = src[r * ss + c] (4-byte elements), r < 4.
inline void interleave4_32(const uint32_t* src, size_t ss, uint32_t* dst, size_t cols) {
  const float* s0 = reinterpret_cast<const float*>(src);
  float* d = reinterpret_cast<float*>(dst);
  size_t c = 0;
  for (; c + 8 <= cols; c += 8, d += 32) {
    const __m256 a = _mm256_loadu_ps(s0 + c), b = _mm256_loadu_ps(s0 + ss + c);
    const __m256 z = _mm256_loadu_ps(s0 + 2 * ss + c), w = _mm256_loadu_ps(s0 + 3 * ss + c);
    const __m256 ab_lo = _mm256_unpacklo_ps(a, b), ab_hi = _mm256_unpackhi_ps(a, b);  // a0 b0 a1 b1 | a2 b2 a3 b3
    const __m256 zw_lo = _mm256_unpacklo_ps(z, w), zw_hi = _mm256_unpackhi_ps(z, w);
    const __m256 o0 = _mm256_shuffle_ps(ab_lo, zw_lo, _MM_SHUFFLE(1, 0, 1, 0));  // column 0 | 4
    const __m256 o1 = _mm256_shuffle_ps(ab_lo, zw_lo, _MM_SHUFFLE(3, 2, 3, 2));  // column 1 | 5
    const __m256 o2 = _mm256_shuffle_ps(ab_hi, zw_hi, _MM_SHUFFLE(1, 0, 1, 0));  // column 2 | 6
    const __m256 o3 = _mm256_shuffle_ps(ab_hi, zw_hi, _MM_SHUFFLE(3, 2, 3, 2));  // column 3 | 7
    _mm256_storeu_ps(d, _mm256_permute2f128_ps(o0, o1, 0x20));
    _mm256_storeu_ps(d + 8, _mm256_permute2f128_ps(o2, o3, 0x20));
    _mm256_storeu_ps(d + 16, _mm256_permute2f128_ps(o0, o1, 0x31));
    _mm256_storeu_ps(d + 24, _mm256_permute2f128_ps(o2, o3, 0x31));
  }
  for (; c < cols; ++c) {
    for (size_t r = 0; r < 4; ++r) dst[4 * c + r] = src[r * ss + c];
  }
}

// The dense 3- and 4-row cases; false for anything else.
inline bool transpose_interleave_8(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds, size_t rows,
                                   size_t cols) {
  if (ds != rows) return false;
  if (rows == 3) interleave3_8(src, ss, dst, cols);
  else if (rows == 4) interleave4_8(src, ss, dst, cols);
  else return false;
  return true;
}

inline bool transpose_interleave_32(const uint32_t* src, size_t ss, uint32_t* dst, size_t ds, size_t rows,
                                    size_t cols) {
  if (ds != rows) return false;
  if (rows == 3) interleave3_32(src, ss, dst, cols);
  else if (rows == 4) interleave4_32(src, ss, dst, cols);
  else return false;
  return true;
}

}  // namespace x86
}  // namespace lowbit
