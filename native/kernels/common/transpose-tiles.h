// Walks a rows x cols transpose in kR x kC register tiles. The outer loop
// runs along the side with the larger stride: with ss >= ds (NCHW -> NHWC)
// column blocks outermost, so each tile's kC destination rows are written
// sequentially along r and the source lines a block touches are still in L1
// for the next block; with ss < ds (NHWC -> NCHW: short, dense source rows)
// row blocks outermost, so the source is read sequentially and the
// destination lines a block half-fills are completed by the next. Measured:
// the other order is 1.5x slower on one thread, 2x on two. Not when the
// destination stride is a multiple of 1 KB: the lines in flight would then
// share a few L1 sets (a 4x slower [256, 196] float transpose).
// The last tile in each direction is moved back to end at the edge, so it
// overlaps its neighbour: the overlap is written twice with the same values
// (src and dst never alias), which replaces masked or scalar edges. Needs
// rows >= kR and cols >= kC.
#pragma once

#include <algorithm>
#include <cstddef>

namespace lowbit {
namespace layout {

template <size_t kR, size_t kC, typename T, typename Tile>
inline void transpose_overlapped(const T* src, size_t ss, T* dst, size_t ds, size_t rows, size_t cols,
                                 const Tile& tile) {
  if (ss < ds && (ds * sizeof(T)) % 1024 != 0) {
    for (size_t r0 = 0; r0 < rows; r0 += kR) {
      const size_t r = std::min(r0, rows - kR);
      for (size_t c0 = 0; c0 < cols; c0 += kC) {
        const size_t c = std::min(c0, cols - kC);
        tile(src + r * ss + c, ss, dst + c * ds + r, ds);
      }
    }
    return;
  }
  for (size_t c0 = 0; c0 < cols; c0 += kC) {
    const size_t c = std::min(c0, cols - kC);
    for (size_t r0 = 0; r0 < rows; r0 += kR) {
      const size_t r = std::min(r0, rows - kR);
      tile(src + r * ss + c, ss, dst + c * ds + r, ds);
    }
  }
}

// Columns fewer than a tile (rows >= 8): destination row by destination row,
// so the writes stay sequential.
template <typename T>
inline void transpose_few_cols(const T* src, size_t ss, T* dst, size_t ds, size_t rows, size_t cols) {
  for (size_t c = 0; c < cols; ++c) {
    T* d = dst + c * ds;
    const T* s = src + c;
    for (size_t r = 0; r < rows; ++r) d[r] = s[r * ss];
  }
}

}  // namespace layout
}  // namespace lowbit
