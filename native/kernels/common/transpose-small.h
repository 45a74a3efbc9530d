// Transposes with fewer than 8 source rows (an image's 3 or 4 channels going
// NCHW -> NHWC): column by column, so the destination is written contiguously
// and the source read in `rows` streams. Used by every layout path.
#pragma once

#include <cstddef>

namespace lowbit {
namespace layout {

template <typename T, size_t kRows>
inline void transpose_rows(const T* src, size_t ss, T* dst, size_t ds, size_t cols) {
  const T* s[kRows];
  for (size_t r = 0; r < kRows; ++r) s[r] = src + r * ss;
  for (size_t c = 0; c < cols; ++c) {
    T* d = dst + c * ds;
    for (size_t r = 0; r < kRows; ++r) d[r] = s[r][c];
  }
}

// dst[c * ds + r] = src[r * ss + c] for rows < 8; false when rows >= 8.
template <typename T>
inline bool transpose_few_rows(const T* src, size_t ss, T* dst, size_t ds, size_t rows, size_t cols) {
  switch (rows) {
    case 0: return true;
    case 1: transpose_rows<T, 1>(src, ss, dst, ds, cols); return true;
    case 2: transpose_rows<T, 2>(src, ss, dst, ds, cols); return true;
    case 3: transpose_rows<T, 3>(src, ss, dst, ds, cols); return true;
    case 4: transpose_rows<T, 4>(src, ss, dst, ds, cols); return true;
    case 5: transpose_rows<T, 5>(src, ss, dst, ds, cols); return true;
    case 6: transpose_rows<T, 6>(src, ss, dst, ds, cols); return true;
    case 7: transpose_rows<T, 7>(src, ss, dst, ds, cols); return true;
    default: return false;
  }
}

}  // namespace layout
}  // namespace lowbit
