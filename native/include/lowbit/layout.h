// Data movement for the model runner: Transpose (any permutation up to rank 6,
// 2-D tiles for the NCHW <-> NHWC conversions at graph edges), row copies
// (Concat, Split, Identity), per-axis index maps (Slice with any steps, Pad in
// every mode, nearest Resize, Expand, Tile), Gather with run-time indices, and
// separable-tap float32 Resize (linear, cubic) over NCHW or NHWC.
//
// Elements are moved as bytes (1 or 4 per element), so every kernel serves
// every dtype and all paths are bit-identical by construction. The resize
// weighted sums are s = w0 * x0; s = s + w1 * x1; ... in tap order on every
// path (no FMA): bit-identical too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lowbit/cpu.h"
#include "lowbit/elementwise.h"
#include "lowbit/pool.h"

namespace lowbit {

class ThreadPool;

struct LayoutPath {
  Isa isa;
  // dst[c * dst_stride + r] = src[r * src_stride + c] for r < rows, c < cols
  // (strides in elements), 4-byte and 1-byte elements.
  void (*transpose_32)(const uint32_t* src, size_t src_stride, uint32_t* dst, size_t dst_stride, size_t rows,
                       size_t cols);
  void (*transpose_8)(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows,
                      size_t cols);
  // out[j] = sum over t of weights[t] * rows[t][j], in tap order, for j < c.
  void (*weighted_sum_f32)(const float* const* rows, const float* weights, size_t taps, size_t c, float* out);
};

const LayoutPath& layout_path(Isa isa);

// out = x transposed: out axis i is input axis perm[i]. elem_bytes is 1 or 4.
void transpose(const LayoutPath& path, size_t elem_bytes, size_t rank, const size_t* shape, const size_t* perm,
               const void* x, void* out, ThreadPool* pool);

// rows x row_bytes, strides in bytes.
void copy_rows(const void* src, size_t src_stride, void* dst, size_t dst_stride, size_t rows, size_t row_bytes,
               ThreadPool* pool);

// out[o_0, ..., o_r] = x[map_0[o_0], ..., map_r[o_r]], or `fill` where any map
// entry is -1. Every other entry is in [0, in_dims[d]) (the caller checks).
struct AxisMaps {
  size_t rank = 0;
  size_t in_dims[kMaxRank] = {};
  size_t out_dims[kMaxRank] = {};
  std::vector<int32_t> map[kMaxRank];
};

void gather_axes(size_t elem_bytes, const AxisMaps& maps, const void* x, void* out, const uint8_t* fill,
                 ThreadPool* pool);

// out[o, i, j] = x[o, k, j] with k = indices[i] (+ axis_len when negative), for
// the [outer, axis_len, inner] input; an index still outside [0, axis_len)
// gives zeros (a recorded step cannot throw; the op checks indices it knows).
void gather(size_t elem_bytes, size_t outer, size_t axis_len, size_t inner, const int32_t* indices, size_t count,
            const void* x, void* out, ThreadPool* pool);

// Taps of a separable resize along one axis: for output position o, `taps`
// input indices (already clamped into range) and weights; outside[o] marks a
// position that takes the extrapolation value (tf_crop_and_resize).
struct ResizeAxis {
  size_t out = 0;
  size_t taps = 1;
  std::vector<int32_t> index;   // out * taps
  std::vector<float> weight;    // out * taps
  std::vector<uint8_t> outside; // out
};

// out[n, c, oy, ox] = sum_i sum_j (wy_i * wx_j) * x[n, c, y_i, x_j] (NCHW or NHWC).
void resize2d_f32(const LayoutPath& path, Layout layout, size_t n, size_t c, size_t h, size_t w, const ResizeAxis& ry,
                  const ResizeAxis& rx, float extrapolation, const float* x, float* out, ThreadPool* pool);

namespace ref {
extern const LayoutPath kLayoutPath;
void transpose_8(const uint8_t* src, size_t src_stride, uint8_t* dst, size_t dst_stride, size_t rows, size_t cols);
}  // namespace ref

}  // namespace lowbit
