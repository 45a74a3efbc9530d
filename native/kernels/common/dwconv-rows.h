// The walk over output pixels every depthwise path shares: for each output pixel
// of a range of rows, the address of each tap's C input channels, or of the
// padding row (C bytes of the activation zero point) for taps outside the image.
// Kernels then run branch-free over the taps.
//
// Internal linkage only (static / templates in an anonymous namespace): each ISA
// folder compiles its own copy with its own flags.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "lowbit/aligned_buffer.h"
#include "lowbit/depthwise_s8.h"

namespace lowbit {
namespace dwconv {
namespace {

// Thread-local, grown on demand: no allocation once a thread has seen the
// largest kernel (steps may run on any worker thread, concurrently).
struct TapScratch {
  std::vector<const uint8_t*> taps;
  std::vector<const uint8_t*> taps2;  // the second pixel of a pair
  std::vector<const uint8_t*> rows;
  std::vector<ptrdiff_t> offsets;
};

inline TapScratch& tap_scratch() {
  thread_local TapScratch scratch;
  return scratch;
}

// Fills tap[0, taps) for output pixel ox of the row whose kernel rows start at
// row[] (nullptr: outside the image); rows_inside: every row[] is inside.
struct RowWalk {
  const uint8_t* const* row;
  const ptrdiff_t* offset;
  const uint8_t* pad;
  size_t kh, kw, taps;
  ptrdiff_t w, sc, dw, span_w, stride_w, pad_left;
  bool rows_inside;

  inline void taps_of(size_t ox, const uint8_t** tap) const {
    const ptrdiff_t ix0 = static_cast<ptrdiff_t>(ox) * stride_w - pad_left;
    if (rows_inside && ix0 >= 0 && ix0 + span_w < w) {
      const uint8_t* base = row[0] + ix0 * sc;
      for (size_t t = 0; t < taps; ++t) tap[t] = base + offset[t];
      return;
    }
    for (size_t ky = 0, t = 0; ky < kh; ++ky) {
      for (size_t kx = 0; kx < kw; ++kx, ++t) {
        const ptrdiff_t ix = ix0 + static_cast<ptrdiff_t>(kx) * dw;
        tap[t] = row[ky] != nullptr && ix >= 0 && ix < w ? row[ky] + ix * sc : pad;
      }
    }
  }
};

// Calls, for every output row of [r0, r1) of the n*oh rows, row_fn(walk, r)
// with a RowWalk prepared for it; shared by the single and paired walks.
template <class RowFn>
inline void for_each_row(const DepthwiseArgs& a, size_t r0, size_t r1, RowFn&& row_fn) {
  const Conv2dGeometry& g = a.geometry;
  const size_t kh = g.kh, kw = g.kw, taps = kh * kw, c = a.c;
  const size_t rounded = (taps + 3) / 4 * 4;
  TapScratch& s = tap_scratch();
  if (s.taps.size() < rounded) s.taps.resize(rounded);
  if (s.taps2.size() < rounded) s.taps2.resize(rounded);
  if (s.offsets.size() < taps) s.offsets.resize(taps);
  if (s.rows.size() < kh) s.rows.resize(kh);
  const uint8_t** row = s.rows.data();
  ptrdiff_t* offset = s.offsets.data();
  const auto* x = static_cast<const uint8_t*>(a.x);
  const uint8_t* pad = a.params->padding_row.data();
  // Taps past kh*kw (up to a multiple of 4) are the padding row, for kernels
  // that take taps four at a time.
  for (size_t t = taps; t < rounded; ++t) s.taps[t] = s.taps2[t] = pad;
  const ptrdiff_t h = static_cast<ptrdiff_t>(a.h), w = static_cast<ptrdiff_t>(a.w);
  const ptrdiff_t dh = static_cast<ptrdiff_t>(g.dilation_h), dw = static_cast<ptrdiff_t>(g.dilation_w);
  const ptrdiff_t sc = static_cast<ptrdiff_t>(c);
  for (size_t ky = 0, t = 0; ky < kh; ++ky) {
    for (size_t kx = 0; kx < kw; ++kx, ++t) {
      offset[t] = (static_cast<ptrdiff_t>(ky) * dh * w + static_cast<ptrdiff_t>(kx) * dw) * sc;
    }
  }
  RowWalk walk{row, offset, pad, kh, kw, taps, w, sc, dw, static_cast<ptrdiff_t>(kw - 1) * dw,
               static_cast<ptrdiff_t>(g.stride_w), static_cast<ptrdiff_t>(g.pad_left), true};
  for (size_t r = r0; r < r1; ++r) {
    const size_t b = r / a.oh, oy = r % a.oh;
    const ptrdiff_t iy0 = static_cast<ptrdiff_t>(oy * g.stride_h) - static_cast<ptrdiff_t>(g.pad_top);
    bool rows_inside = true;
    for (size_t ky = 0; ky < kh; ++ky) {
      const ptrdiff_t iy = iy0 + static_cast<ptrdiff_t>(ky) * dh;
      const bool inside = iy >= 0 && iy < h;
      row[ky] = inside ? x + ((static_cast<ptrdiff_t>(b) * h + iy) * w) * sc : nullptr;
      rows_inside = rows_inside && inside;
    }
    walk.rows_inside = rows_inside;
    row_fn(static_cast<const RowWalk&>(walk), r);
  }
}

// Calls pixel(taps, index) for every output pixel of rows [r0, r1) of the
// n*oh output rows, with index = the pixel's position in [n, oh, ow] order
// (its output starts at index * c) and taps[t] (t = ky*kw + kx) the address of
// that tap's input pixel (channel 0) or the padding row. taps[] holds kh*kw
// rounded up to a multiple of 4 entries; those past kh*kw are the padding row.
template <class Pixel>
inline void for_each_pixel(const DepthwiseArgs& a, size_t r0, size_t r1, Pixel&& pixel) {
  TapScratch& s = tap_scratch();
  for_each_row(a, r0, r1, [&](const RowWalk& walk, size_t r) __attribute__((always_inline)) {
    const uint8_t** tap = s.taps.data();  // sized by for_each_row
    for (size_t ox = 0; ox < a.ow; ++ox) {
      walk.taps_of(ox, tap);
      pixel(static_cast<const uint8_t* const*>(tap), r * a.ow + ox);
    }
  });
}

// As for_each_pixel, but two neighbouring pixels of a row at a time:
// pair(taps_a, taps_b, index_a) for pixels index_a and index_a + 1, then
// single(taps, index) for the last pixel of a row of odd width. Kernels that
// interleave two pixels' independent dependency chains run faster.
template <class Pair, class Single>
inline void for_each_pixel_pair(const DepthwiseArgs& a, size_t r0, size_t r1, Pair&& pair, Single&& single) {
  TapScratch& s = tap_scratch();
  for_each_row(a, r0, r1, [&](const RowWalk& walk, size_t r) __attribute__((always_inline)) {
    const uint8_t** tap = s.taps.data();  // sized by for_each_row
    const uint8_t** tap2 = s.taps2.data();
    size_t ox = 0;
    for (; ox + 2 <= a.ow; ox += 2) {
      walk.taps_of(ox, tap);
      walk.taps_of(ox + 1, tap2);
      pair(static_cast<const uint8_t* const*>(tap), static_cast<const uint8_t* const*>(tap2), r * a.ow + ox);
    }
    if (ox < a.ow) {
      walk.taps_of(ox, tap);
      single(static_cast<const uint8_t* const*>(tap), r * a.ow + ox);
    }
  });
}

// The kernel rows of output row oy (of one image) that fall outside the image,
// as a bit mask (bit ky).
inline uint32_t outside_rows_mask(const DepthwiseArgs& a, size_t oy) {
  const Conv2dGeometry& g = a.geometry;
  uint32_t mask = 0;
  for (size_t ky = 0; ky < g.kh; ++ky) {
    const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * g.stride_h + ky * g.dilation_h) - static_cast<ptrdiff_t>(g.pad_top);
    if (iy < 0 || iy >= static_cast<ptrdiff_t>(a.h)) mask |= 1u << ky;
  }
  return mask;
}

// The distinct nonzero outside-row masks of output rows [r0, r1) (rows of all
// images): the "rows" kernels start their accumulators from one precomputed
// vector per pattern (a kernel row outside the image reads the zero point in
// every column), and an image has only a few (its top and bottom rows).
inline void outside_row_patterns(const DepthwiseArgs& a, size_t r0, size_t r1, std::vector<uint32_t>* patterns) {
  patterns->clear();
  for (size_t r = r0; r < r1; ++r) {
    const uint32_t mask = outside_rows_mask(a, r % a.oh);
    if (mask != 0 && std::find(patterns->begin(), patterns->end(), mask) == patterns->end()) patterns->push_back(mask);
  }
}

// The input rows that output rows [oy0, oy0 + nb) of image b read (a band of
// at most kRows rows computed together): in_row[u] points at input row u's
// bytes in x (row_bytes apart), and ky_of[u][j] is the kernel row by which band
// row j reads it (-1: none; rows j >= nb read nothing). Rows outside the image
// are not listed (their zero points are in the accumulator starts). Returns
// how many rows there are.
template <size_t kRows>
inline size_t band_input_rows(const DepthwiseArgs& a, const uint8_t* x, size_t row_bytes, size_t b, size_t oy0,
                              size_t nb, const uint8_t** in_row, int32_t (*ky_of)[kRows]) {
  const Conv2dGeometry& g = a.geometry;
  const ptrdiff_t h = static_cast<ptrdiff_t>(a.h), dh = static_cast<ptrdiff_t>(g.dilation_h);
  const ptrdiff_t kh = static_cast<ptrdiff_t>(g.kh);
  const ptrdiff_t first = static_cast<ptrdiff_t>(oy0 * g.stride_h) - static_cast<ptrdiff_t>(g.pad_top);
  const ptrdiff_t last = first + static_cast<ptrdiff_t>((nb - 1) * g.stride_h + (g.kh - 1) * g.dilation_h);
  size_t n = 0;
  for (ptrdiff_t iy = std::max<ptrdiff_t>(first, 0); iy <= std::min(last, h - 1); ++iy) {
    bool any = false;
    for (size_t j = 0; j < kRows; ++j) {
      const ptrdiff_t d = iy - first - static_cast<ptrdiff_t>(j * g.stride_h);
      const bool reads = j < nb && d >= 0 && d % dh == 0 && d / dh < kh;
      ky_of[n][j] = reads ? static_cast<int32_t>(d / dh) : -1;
      any = any || reads;
    }
    if (any) in_row[n++] = x + (b * a.h + static_cast<size_t>(iy)) * row_bytes;
  }
  return n;
}

// Replaces in_row[0, n) by padded copies in *pad: byte left + j of a copy is
// byte j of the row (row_bytes of them), every other byte up to padded_bytes
// the zero point zx. For kernels without byte-masked loads: a memcpy of a
// partial load inside the loop would keep every accumulator live across a call.
inline void pad_input_rows(const uint8_t** in_row, size_t n, size_t row_bytes, size_t left, size_t padded_bytes,
                           uint8_t zx, AlignedBuffer* pad) {
  if (pad->size() < n * padded_bytes) pad->resize(n * padded_bytes);
  left = std::min(left, padded_bytes);
  const size_t copied = std::min(row_bytes, padded_bytes - left);
  for (size_t u = 0; u < n; ++u) {
    auto* dst = static_cast<uint8_t*>(pad->data()) + u * padded_bytes;
    std::memset(dst, zx, left);
    std::memcpy(dst + left, in_row[u], copied);
    std::memset(dst + left + copied, zx, padded_bytes - left - copied);
    in_row[u] = dst;
  }
}

}  // namespace
}  // namespace dwconv
}  // namespace lowbit
