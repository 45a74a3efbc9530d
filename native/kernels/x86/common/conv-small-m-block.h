// What the x86 small-m convolution kernels (lowbit/conv_s8_small_m.h) share:
// the walk over output rows and pixel blocks, the gather of a block into
// [group][PX][4 bytes], and the byte transpose that turns per-channel vectors
// of PX pixels into NHWC output. SSE2 only; static functions, so every ISA's
// translation units keep their own copy (see gemm-block.h).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lowbit/conv_s8_small_m.h"

namespace lowbit {
namespace x86 {

// gathered[(ky*nq + q)*PX + p] (4 bytes each) = bytes 4q..4q+3 of kernel row ky
// of pixel p. Every pixel's row is read 16 bytes at a time: past kw*C the
// bytes meet zero weights (the padded image has kSmallMSlack bytes after its end).
template <size_t PX>
static inline void gather_block(const uint8_t* const* rows, size_t kh, size_t nq, const size_t* off,
                                uint8_t* gathered) {
  for (size_t ky = 0; ky < kh; ++ky) {
    for (size_t q0 = 0; q0 < nq; q0 += 4) {
      const uint8_t* base = rows[ky] + 4 * q0;
      const size_t nd = nq - q0 < 4 ? nq - q0 : 4;
      uint8_t* dst = gathered + (ky * nq + q0) * PX * 4;
      for (size_t i = 0; i < PX; i += 4) {
        const __m128i x0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + off[i]));
        const __m128i x1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + off[i + 1]));
        const __m128i x2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + off[i + 2]));
        const __m128i x3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + off[i + 3]));
        const __m128i t0 = _mm_unpacklo_epi32(x0, x1), t1 = _mm_unpackhi_epi32(x0, x1);
        const __m128i t2 = _mm_unpacklo_epi32(x2, x3), t3 = _mm_unpackhi_epi32(x2, x3);
        const __m128i d[4] = {_mm_unpacklo_epi64(t0, t2), _mm_unpackhi_epi64(t0, t2), _mm_unpacklo_epi64(t1, t3),
                              _mm_unpackhi_epi64(t1, t3)};
        for (size_t q = 0; q < nd; ++q) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + (q * PX + i) * 4), d[q]);
        }
      }
    }
  }
}

// Byte transposes: c[j] holds channel j of pixels 0..15 (byte p = pixel p);
// out[i] gets the pixel-major bytes 16i..16i+15 of the [16][MP] result.
static inline void transpose_4x16(const __m128i* c, __m128i* out) {
  const __m128i a0 = _mm_unpacklo_epi8(c[0], c[1]), b0 = _mm_unpackhi_epi8(c[0], c[1]);
  const __m128i a1 = _mm_unpacklo_epi8(c[2], c[3]), b1 = _mm_unpackhi_epi8(c[2], c[3]);
  out[0] = _mm_unpacklo_epi16(a0, a1);  // pixels 0-3
  out[1] = _mm_unpackhi_epi16(a0, a1);
  out[2] = _mm_unpacklo_epi16(b0, b1);
  out[3] = _mm_unpackhi_epi16(b0, b1);
}

static inline void transpose_8x16(const __m128i* c, __m128i* out) {
  __m128i a[4], b[4];
#pragma GCC unroll 4
  for (size_t k = 0; k < 4; ++k) {
    a[k] = _mm_unpacklo_epi8(c[2 * k], c[2 * k + 1]);  // pixels 0-7, channels 2k, 2k+1
    b[k] = _mm_unpackhi_epi8(c[2 * k], c[2 * k + 1]);  // pixels 8-15
  }
  const __m128i* half[2] = {a, b};
#pragma GCC unroll 2
  for (size_t h = 0; h < 2; ++h) {
    const __m128i* s = half[h];
    const __m128i d0 = _mm_unpacklo_epi16(s[0], s[1]), d1 = _mm_unpackhi_epi16(s[0], s[1]);  // ch 0-3
    const __m128i e0 = _mm_unpacklo_epi16(s[2], s[3]), e1 = _mm_unpackhi_epi16(s[2], s[3]);  // ch 4-7
    out[4 * h + 0] = _mm_unpacklo_epi32(d0, e0);  // 2 pixels x 8 channels
    out[4 * h + 1] = _mm_unpackhi_epi32(d0, e0);
    out[4 * h + 2] = _mm_unpacklo_epi32(d1, e1);
    out[4 * h + 3] = _mm_unpackhi_epi32(d1, e1);
  }
}

static inline void transpose_16x16(const __m128i* c, __m128i* out) {
  __m128i lo[8], hi[8];
  transpose_8x16(c, lo);      // channels 0-7: 2 pixels per register
  transpose_8x16(c + 8, hi);  // channels 8-15
#pragma GCC unroll 8
  for (size_t i = 0; i < 8; ++i) {
    out[2 * i] = _mm_unpacklo_epi64(lo[i], hi[i]);
    out[2 * i + 1] = _mm_unpackhi_epi64(lo[i], hi[i]);
  }
}

// Stores pixels [0, valid) of the block: m of the MP channel bytes each.
template <size_t MP>
static inline void store_pixels(const __m128i* c, uint8_t* out, size_t m, size_t valid) {
  __m128i t[MP];
  if (MP == 4) transpose_4x16(c, t);
  else if (MP == 8) transpose_8x16(c, t);
  else transpose_16x16(c, t);
  const size_t regs = (valid * MP + 15) / 16;
  if (m == MP && valid == 16) {  // a whole 16-pixel block
#pragma GCC unroll 16
    for (size_t i = 0; i < MP; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), t[i]);
    return;
  }
  if (m == MP && valid * MP % 16 == 0) {
    for (size_t i = 0; i < regs; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), t[i]);
    return;
  }
  alignas(16) uint8_t tile[16 * MP];
  for (size_t i = 0; i < regs; ++i) _mm_store_si128(reinterpret_cast<__m128i*>(tile + 16 * i), t[i]);
  if (m == MP) {
    std::memcpy(out, tile, valid * MP);
    return;
  }
  for (size_t p = 0; p < valid; ++p) std::memcpy(out + p * m, tile + p * MP, m);
}

// Calls block(gathered, out, valid) for every block of PX output pixels of
// the rows [r0, r1) of n * oh; the pixels of a partial block past the row's
// end repeat its last pixel (computed, never stored).
template <size_t PX, class Block>
static inline void for_each_pixel_block(const SmallMArgs& a, size_t r0, size_t r1, Block&& block) {
  const PackedSmallM& w = *a.w;
  alignas(64) uint8_t gathered[kSmallMMaxGroups * PX * 4];
  const uint8_t* rows[kSmallMMaxGroups];
  size_t off[PX];
  const size_t step = a.stride_w * w.c;
  auto* out = static_cast<uint8_t*>(a.out);
  for (size_t r = r0; r < r1; ++r) {
    const size_t b = r / a.oh, oy = r % a.oh;
    for (size_t ky = 0; ky < w.kh; ++ky) {
      rows[ky] = a.padded + (b * a.hp + oy * a.stride_h + ky * a.dilation_h) * a.pitch;
    }
    uint8_t* out_row = out + r * a.ow * a.m;
    for (size_t ox0 = 0; ox0 < a.ow; ox0 += PX) {
      const size_t valid = a.ow - ox0 < PX ? a.ow - ox0 : PX;
      for (size_t p = 0; p < PX; ++p) off[p] = (ox0 + (p < valid ? p : valid - 1)) * step;
      gather_block<PX>(rows, w.kh, w.nq, off, gathered);
      block(gathered, out_row + ox0 * a.m, valid);
    }
  }
}

// f(std::integral_constant<size_t, MP>) for the packed channel count w.mp
// (4, 8 or 16): each path's kernels are instantiated per count.
template <class F>
inline void with_packed_channels(const PackedSmallM& w, F&& f) {
  switch (w.mp) {
    case 4: return f(std::integral_constant<size_t, 4>{});
    case 8: return f(std::integral_constant<size_t, 8>{});
    default: return f(std::integral_constant<size_t, 16>{});
  }
}

}  // namespace x86
}  // namespace lowbit
