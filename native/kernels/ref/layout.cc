// Data movement: the ref tile kernels (the ground truth) and the drivers for
// transpose, row copies, per-axis index maps, gather and separable resize.
#include "lowbit/layout.h"

#include <algorithm>
#include <cstring>

#include "../common/transpose-small.h"
#include "../ops-parallel.h"

namespace lowbit {
namespace ref {
namespace {

constexpr size_t kTile = 32;

template <typename T>
void transpose_tiled(const T* src, size_t src_stride, T* dst, size_t dst_stride, size_t rows, size_t cols) {
  if (layout::transpose_few_rows(src, src_stride, dst, dst_stride, rows, cols)) return;
  for (size_t r0 = 0; r0 < rows; r0 += kTile) {
    const size_t r1 = std::min(rows, r0 + kTile);
    for (size_t c0 = 0; c0 < cols; c0 += kTile) {
      const size_t c1 = std::min(cols, c0 + kTile);
      for (size_t c = c0; c < c1; ++c) {
        for (size_t r = r0; r < r1; ++r) dst[c * dst_stride + r] = src[r * src_stride + c];
      }
    }
  }
}

void transpose_32(const uint32_t* src, size_t src_stride, uint32_t* dst, size_t dst_stride, size_t rows, size_t cols) {
  transpose_tiled(src, src_stride, dst, dst_stride, rows, cols);
}

void weighted_sum_f32(const float* const* rows, const float* weights, size_t taps, size_t c, float* out) {
  for (size_t j = 0; j < c; ++j) {
    float s = weights[0] * rows[0][j];
    for (size_t t = 1; t < taps; ++t) s = s + weights[t] * rows[t][j];
    out[j] = s;
  }
}

}  // namespace

void transpose_8(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows, size_t cols) {
  transpose_tiled(src, src_stride, dst, dst_stride, rows, cols);
}

extern const LayoutPath kLayoutPath = {Isa::kRef, transpose_32, transpose_8, weighted_sum_f32};

}  // namespace ref

namespace {

// An odometer over dims[0..rank) skipping the axes in `skip`, tracking a
// source and a destination offset (elements).
struct Odometer {
  size_t rank;
  const size_t* dims;
  const size_t* src_stride;
  const size_t* dst_stride;
  uint32_t skip;
  size_t idx[kMaxRank] = {};
  size_t src = 0, dst = 0;

  // Positions to item number `item` (in the order next() walks).
  void seek(size_t item) {
    src = dst = 0;
    for (size_t d = rank; d-- > 0;) {
      if (skip & (1u << d)) continue;
      idx[d] = item % dims[d];
      item /= dims[d];
      src += idx[d] * src_stride[d];
      dst += idx[d] * dst_stride[d];
    }
  }
  void next() {
    for (size_t d = rank; d-- > 0;) {
      if (skip & (1u << d)) continue;
      src += src_stride[d];
      dst += dst_stride[d];
      if (++idx[d] < dims[d]) return;
      src -= idx[d] * src_stride[d];
      dst -= idx[d] * dst_stride[d];
      idx[d] = 0;
    }
  }
};

void tile(const LayoutPath& path, size_t eb, const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride,
          size_t rows, size_t cols) {
  if (eb == 4) {
    path.transpose_32(reinterpret_cast<const uint32_t*>(src), src_stride, reinterpret_cast<uint32_t*>(dst), dst_stride,
                      rows, cols);
  } else {
    path.transpose_8(src, src_stride, dst, dst_stride, rows, cols);
  }
}

// Source rows per tile call: 64 keeps the source lines one column block of a
// tile touches in L1 until the next block reads them again. A narrow tile
// (cols <= kNarrowCols: one or two column blocks) reads its lines about once,
// so it takes more rows per call, up to kTileElements, to amortize the call.
constexpr size_t kRowChunk = 64;
constexpr size_t kColChunk = 2048;
constexpr size_t kNarrowCols = 32;
constexpr size_t kTileElements = size_t{1} << 15;

// Splits [0, n) into max(1, n / chunk) pieces of chunk to 2 * chunk, cut at
// multiples of 16 (a register tile's side) so no piece has a tiny remainder
// that only the element-by-element loops could move.
struct Split {
  size_t n, pieces;
  Split(size_t n_, size_t chunk) : n(n_), pieces(std::max<size_t>(1, n_ / chunk)) {}
  size_t begin(size_t i) const { return i == pieces ? n : (n * i / pieces) & ~size_t{15}; }
};

}  // namespace

void transpose(const LayoutPath& path, size_t eb, size_t rank, const size_t* shape, const size_t* perm, const void* x,
               void* out, ThreadPool* pool) {
  // Drop unit axes, then merge runs of input axes that stay adjacent and in
  // order in the output: [N, C, H, W] -> NHWC becomes [N, C, HW] with perm [0, 2, 1].
  size_t total = 1;
  for (size_t d = 0; d < rank; ++d) total *= shape[d];
  if (total == 0) return;
  size_t group_first[kMaxRank], group_last[kMaxRank], group_size[kMaxRank];
  size_t groups = 0;
  for (size_t i = 0; i < rank; ++i) {
    const size_t a = perm[i];
    if (shape[a] == 1) continue;
    if (groups > 0 && group_last[groups - 1] + 1 == a) {
      group_last[groups - 1] = a;
      group_size[groups - 1] *= shape[a];
    } else {
      group_first[groups] = group_last[groups] = a;
      group_size[groups] = shape[a];
      ++groups;
    }
  }
  // Input order of the groups.
  size_t order[kMaxRank];
  for (size_t g = 0; g < groups; ++g) order[g] = g;
  std::sort(order, order + groups, [&](size_t a, size_t b) { return group_first[a] < group_first[b]; });
  size_t in_pos[kMaxRank];
  for (size_t k = 0; k < groups; ++k) in_pos[order[k]] = k;
  size_t in_dims[kMaxRank], in_stride[kMaxRank];
  for (size_t k = 0; k < groups; ++k) in_dims[k] = group_size[order[k]];
  size_t s = 1;
  for (size_t k = groups; k-- > 0;) {
    in_stride[k] = s;
    s *= in_dims[k];
  }
  // Output axis g reads input axis in_pos[g].
  size_t out_dims[kMaxRank], src_stride[kMaxRank], dst_stride[kMaxRank];
  for (size_t g = 0; g < groups; ++g) {
    out_dims[g] = group_size[g];
    src_stride[g] = in_stride[in_pos[g]];
  }
  s = 1;
  for (size_t g = groups; g-- > 0;) {
    dst_stride[g] = s;
    s *= out_dims[g];
  }
  const auto* src = static_cast<const uint8_t*>(x);
  auto* dst = static_cast<uint8_t*>(out);
  if (groups <= 1) {
    copy_rows(src, 0, dst, 0, 1, total * eb, pool);
    return;
  }
  const size_t last = groups - 1;
  if (in_pos[last] == groups - 1) {
    // The innermost input run stays innermost: contiguous blocks.
    const size_t block = out_dims[last] * eb;
    const size_t items = total / out_dims[last];
    parallel_ranges(pool, items, total, [&](size_t i0, size_t i1) {
      Odometer od{last, out_dims, src_stride, dst_stride, 0};
      od.seek(i0);
      for (size_t i = i0; i < i1; ++i) {
        std::memcpy(dst + od.dst * eb, src + od.src * eb, block);
        od.next();
      }
    });
    return;
  }
  // 2-D tiles: output axis q holds the input's innermost run (contiguous in
  // the source), the output's innermost axis reads source stride src_stride[last].
  size_t q = 0;
  while (in_pos[q] != groups - 1) ++q;
  const size_t rows = out_dims[last], cols = out_dims[q];
  const size_t row_chunk = cols <= kNarrowCols ? std::max(kRowChunk, kTileElements / cols) : kRowChunk;
  const Split rsplit(rows, row_chunk), csplit(cols, kColChunk);
  const size_t rchunks = rsplit.pieces, cchunks = csplit.pieces;
  const size_t outer = total / (rows * cols);
  const uint32_t skip = (1u << q) | (1u << last);
  // Work in 8-byte units moved: the register tiles move 25-45 GB/s on one
  // thread, so a hand-off to the pool (5-30 us on a VM) pays from about 1 MB
  // (measured: a 588 KB float transpose took 13 us on one thread, 35 us on two).
  const size_t work = total * eb / 8;
  parallel_ranges(pool, outer * rchunks * cchunks, work, [&](size_t i0, size_t i1) {
    Odometer od{groups, out_dims, src_stride, dst_stride, skip};
    size_t current = i0 / (rchunks * cchunks);
    od.seek(current);
    for (size_t i = i0; i < i1; ++i) {
      const size_t o = i / (rchunks * cchunks), rc = i % (rchunks * cchunks);
      while (current < o) {
        od.next();
        ++current;
      }
      const size_t r0 = rsplit.begin(rc / cchunks), r1 = rsplit.begin(rc / cchunks + 1);
      const size_t c0 = csplit.begin(rc % cchunks), c1 = csplit.begin(rc % cchunks + 1);
      // Source element (r, c) at r * src_stride[last] + c; destination (c, r) at c * dst_stride[q] + r.
      tile(path, eb, src + (od.src + r0 * src_stride[last] + c0) * eb, src_stride[last],
           dst + (od.dst + c0 * dst_stride[q] + r0) * eb, dst_stride[q], r1 - r0, c1 - c0);
    }
  });
}

void copy_rows(const void* src, size_t src_stride, void* dst, size_t dst_stride, size_t rows, size_t row_bytes,
               ThreadPool* pool) {
  if (rows == 0 || row_bytes == 0) return;
  const auto* s = static_cast<const uint8_t*>(src);
  auto* d = static_cast<uint8_t*>(dst);
  if ((rows == 1 || (src_stride == row_bytes && dst_stride == row_bytes))) {
    const size_t total = rows * row_bytes;
    const size_t chunk = kElementwiseChunk * 16;
    const size_t chunks = (total + chunk - 1) / chunk;
    parallel_ranges(pool, chunks, total / 4, [&](size_t c0, size_t c1) {
      const size_t b0 = c0 * chunk, b1 = std::min(total, c1 * chunk);
      std::memmove(d + b0, s + b0, b1 - b0);
    });
    return;
  }
  parallel_ranges(pool, rows, rows * row_bytes / 4, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) std::memcpy(d + r * dst_stride, s + r * src_stride, row_bytes);
  });
}

// ------------------------------------------------------------- index maps

namespace {

void fill_bytes(uint8_t* dst, size_t count, size_t eb, const uint8_t* fill) {
  if (eb == 1) {
    std::memset(dst, fill[0], count);
    return;
  }
  for (size_t i = 0; i < count; ++i) std::memcpy(dst + i * eb, fill, eb);
}

// A run of the innermost axis: `len` outputs from consecutive sources starting
// at `src`, or fill (src < 0).
struct Run {
  size_t out;
  size_t len;
  int64_t src;
};

}  // namespace

void gather_axes(size_t eb, const AxisMaps& maps, const void* x, void* out, const uint8_t* fill, ThreadPool* pool) {
  const size_t rank = maps.rank;
  size_t total = 1;
  for (size_t d = 0; d < rank; ++d) total *= maps.out_dims[d];
  if (total == 0) return;
  const auto* src = static_cast<const uint8_t*>(x);
  auto* dst = static_cast<uint8_t*>(out);
  if (rank == 0) {
    std::memcpy(dst, src, eb);
    return;
  }
  size_t in_stride[kMaxRank];
  size_t s = 1;
  for (size_t d = rank; d-- > 0;) {
    in_stride[d] = s;
    s *= maps.in_dims[d];
  }
  const size_t last = rank - 1, inner = maps.out_dims[last];
  const std::vector<int32_t>& lm = maps.map[last];
  bool identity = maps.in_dims[last] == inner;
  for (size_t j = 0; identity && j < inner; ++j) identity = lm[j] == static_cast<int32_t>(j);
  if (identity && rank >= 2) {
    // The innermost axis is copied whole (channels of NHWC data under a nearest
    // resize, a pad or a slice of H / W): copy whole rows of it, in runs along
    // the next axis, instead of one call per row.
    const size_t mid = maps.out_dims[last - 1], block = inner * eb;
    const std::vector<int32_t>& mm = maps.map[last - 1];
    const size_t items = total / (inner * mid);
    parallel_ranges(pool, items, total, [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) {
        size_t rem = r, soff = 0;
        bool outside = false;
        for (size_t d = last - 1; d-- > 0;) {
          const int32_t m = maps.map[d][rem % maps.out_dims[d]];
          rem /= maps.out_dims[d];
          if (m < 0) outside = true;
          else soff += static_cast<size_t>(m) * in_stride[d];
        }
        uint8_t* drow = dst + r * mid * block;
        size_t j = 0;
        while (j < mid) {
          size_t k = j + 1;
          if (outside || mm[j] < 0) {
            while (k < mid && (outside || mm[k] < 0)) ++k;
            fill_bytes(drow + j * block, (k - j) * inner, eb, fill);
          } else {
            while (k < mid && mm[k] == mm[k - 1] + 1) ++k;
            std::memcpy(drow + j * block, src + (soff + static_cast<size_t>(mm[j]) * in_stride[last - 1]) * eb,
                        (k - j) * block);
          }
          j = k;
        }
      }
    });
    return;
  }
  // Runs of the innermost axis (few when it is a slice or a pad, one per
  // element when it is a strided slice or an upsampling). Counted first so
  // that the common cases need no buffer.
  size_t runs = 0;
  for (size_t j = 0; j < inner; ++j) {
    if (j == 0 || (lm[j] < 0) != (lm[j - 1] < 0) || (lm[j] >= 0 && lm[j] != lm[j - 1] + 1)) ++runs;
  }
  const bool by_runs = runs * 8 <= inner || runs <= 4;
  const size_t rows = total / inner;
  parallel_ranges(pool, rows, total, [&](size_t r0, size_t r1) {
    size_t idx[kMaxRank] = {};
    size_t rem = r0;
    for (size_t d = last; d-- > 0;) {
      idx[d] = rem % maps.out_dims[d];
      rem /= maps.out_dims[d];
    }
    for (size_t r = r0; r < r1; ++r) {
      uint8_t* drow = dst + r * inner * eb;
      bool outside = false;
      size_t soff = 0;
      for (size_t d = 0; d < last; ++d) {
        const int32_t m = maps.map[d][idx[d]];
        if (m < 0) outside = true;
        else soff += static_cast<size_t>(m) * in_stride[d];
      }
      if (outside) {
        fill_bytes(drow, inner, eb, fill);
      } else if (by_runs) {
        size_t j = 0;
        while (j < inner) {
          size_t k = j + 1;
          if (lm[j] < 0) {
            while (k < inner && lm[k] < 0) ++k;
            fill_bytes(drow + j * eb, k - j, eb, fill);
          } else {
            while (k < inner && lm[k] == lm[k - 1] + 1) ++k;
            std::memcpy(drow + j * eb, src + (soff + static_cast<size_t>(lm[j])) * eb, (k - j) * eb);
          }
          j = k;
        }
      } else if (eb == 4) {
        const uint32_t* srow = reinterpret_cast<const uint32_t*>(src) + soff;
        uint32_t* d4 = reinterpret_cast<uint32_t*>(drow);
        uint32_t f;
        std::memcpy(&f, fill, 4);
        for (size_t j = 0; j < inner; ++j) d4[j] = lm[j] < 0 ? f : srow[lm[j]];
      } else {
        const uint8_t* srow = src + soff;
        for (size_t j = 0; j < inner; ++j) drow[j] = lm[j] < 0 ? fill[0] : srow[lm[j]];
      }
      for (size_t d = last; d-- > 0;) {
        if (++idx[d] < maps.out_dims[d]) break;
        idx[d] = 0;
      }
    }
  });
}

void gather(size_t eb, size_t outer, size_t axis_len, size_t inner, const int32_t* indices, size_t count,
            const void* x, void* out, ThreadPool* pool) {
  const auto* src = static_cast<const uint8_t*>(x);
  auto* dst = static_cast<uint8_t*>(out);
  const size_t block = inner * eb;
  parallel_ranges(pool, outer * count, outer * count * inner, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; ++i) {
      const size_t o = i / count, k = i % count;
      int64_t idx = indices[k];
      if (idx < 0) idx += static_cast<int64_t>(axis_len);
      uint8_t* d = dst + i * block;
      if (idx < 0 || idx >= static_cast<int64_t>(axis_len)) std::memset(d, 0, block);
      else std::memcpy(d, src + (o * axis_len + static_cast<size_t>(idx)) * block, block);
    }
  });
}

// ------------------------------------------------------------- resize

namespace {

struct ResizeScratch {
  std::vector<const float*> rows;
  std::vector<float> weights;
};

ResizeScratch& resize_scratch() {
  thread_local ResizeScratch s;
  return s;
}

}  // namespace

void resize2d_f32(const LayoutPath& path, Layout layout, size_t n, size_t c, size_t h, size_t w, const ResizeAxis& ry,
                  const ResizeAxis& rx, float extrapolation, const float* x, float* out, ThreadPool* pool) {
  const size_t oh = ry.out, ow = rx.out, ty = ry.taps, tx = rx.taps;
  if (n == 0 || c == 0 || oh == 0 || ow == 0) return;
  const size_t work = n * c * oh * ow * ty * tx;
  if (layout == Layout::kNhwc) {
    parallel_ranges(pool, n * oh, work, [&](size_t r0, size_t r1) {
      ResizeScratch& s = resize_scratch();
      if (s.rows.size() < ty * tx) {
        s.rows.resize(ty * tx);
        s.weights.resize(ty * tx);
      }
      for (size_t r = r0; r < r1; ++r) {
        const size_t ni = r / oh, oy = r % oh;
        for (size_t ox = 0; ox < ow; ++ox) {
          float* dst = out + ((ni * oh + oy) * ow + ox) * c;
          if (ry.outside[oy] || rx.outside[ox]) {
            for (size_t j = 0; j < c; ++j) dst[j] = extrapolation;
            continue;
          }
          size_t t = 0;
          for (size_t i = 0; i < ty; ++i) {
            const size_t y = static_cast<size_t>(ry.index[oy * ty + i]);
            const float wy = ry.weight[oy * ty + i];
            for (size_t j = 0; j < tx; ++j, ++t) {
              s.rows[t] = x + ((ni * h + y) * w + static_cast<size_t>(rx.index[ox * tx + j])) * c;
              s.weights[t] = wy * rx.weight[ox * tx + j];
            }
          }
          path.weighted_sum_f32(s.rows.data(), s.weights.data(), t, c, dst);
        }
      }
    });
    return;
  }
  parallel_ranges(pool, n * c, work, [&](size_t q0, size_t q1) {
    for (size_t q = q0; q < q1; ++q) {
      const float* plane = x + q * h * w;
      float* dst = out + q * oh * ow;
      for (size_t oy = 0; oy < oh; ++oy) {
        for (size_t ox = 0; ox < ow; ++ox) {
          if (ry.outside[oy] || rx.outside[ox]) {
            dst[oy * ow + ox] = extrapolation;
            continue;
          }
          float acc = 0.0f;
          bool first = true;
          for (size_t i = 0; i < ty; ++i) {
            const float* row = plane + static_cast<size_t>(ry.index[oy * ty + i]) * w;
            const float wy = ry.weight[oy * ty + i];
            for (size_t j = 0; j < tx; ++j) {
              const float wt = wy * rx.weight[ox * tx + j];
              const float v = wt * row[rx.index[ox * tx + j]];
              acc = first ? v : acc + v;
              first = false;
            }
          }
          dst[oy * ow + ox] = acc;
        }
      }
    }
  });
}

}  // namespace lowbit
