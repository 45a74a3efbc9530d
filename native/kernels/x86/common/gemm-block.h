// What every x86 vector GEMM path (avx2, avxvnni, avx512vnni) shares that does
// not depend on a vector width: the output-stage constants, the per-column
// arrays of one column block, how many columns a block spans, and how rows are
// cut into tiles. The arrays are filled, and consumed, by each path's own
// vector code.
//
// Plain data and static scalar helpers only: every ISA's translation units,
// compiled with their own flags, keep their own copy, so no function compiled
// for one ISA can be picked by the linker for another.
#pragma once

#include <cstddef>
#include <cstdint>

#include "lowbit/requantize.h"

namespace lowbit {
namespace x86 {

enum class OutputKind { kInt32, kFp32, kFixedpoint };

// Per-call constants of the output stage (scalars, per tensor). uint8 and int8
// outputs are stored alike: the low byte of the clamped int32.
struct OutputStage {
  OutputKind kind = OutputKind::kInt32;
  int32_t zero_point = 0;
  int32_t qmin = 0, qmax = 0;  // fixedpoint clamp
  float lo = 0, hi = 0;        // fp32 clamp, in the domain before the zero point is added
  bool hardswish = false;      // fp32: hardswish_steps(x, hardswish_k) before the clamp
  float hardswish_k = 0;
};

static inline OutputStage make_output_stage(const Requantization* rq) {
  OutputStage os;
  if (rq != nullptr) {
    os.kind = rq->mode == RequantMode::kFp32 ? OutputKind::kFp32 : OutputKind::kFixedpoint;
    os.zero_point = rq->zero_point;
    os.qmin = rq->qmin;
    os.qmax = rq->qmax;
    // As requantize_one: clamp before rounding, in the domain without the zero point.
    os.lo = static_cast<float>(rq->qmin - rq->zero_point);
    os.hi = static_cast<float>(rq->qmax - rq->zero_point);
    os.hardswish = rq->hardswish;
    os.hardswish_k = rq->hardswish_k;
  }
  return os;
}

// Per-column values of one column block, prepared by the driver; every array is
// padded with zeros to a whole panel so the microkernels never mask a load.
struct Columns {
  const int32_t* offset;       // K*za*zb' - za*colsum(B') + bias: the column part of the correction
  const int32_t* zb;           // zb' (only read when row sums are passed)
  const float* scale;          // fp32 mode
  const int32_t* multiplier;   // fixedpoint mode
  const int32_t* left_shift;   //   max(shift, 0)
  const int32_t* right_shift;  //   max(-shift, 0)
  const int32_t* round_mask;   //   2^right_shift - 1

  Columns at(size_t col) const {
    return {offset + col, zb + col, scale + col, multiplier + col,
            left_shift + col, right_shift + col, round_mask + col};
  }
};

constexpr size_t kMaxBlockColumns = 512;   // size of the per-column stack arrays
constexpr size_t kSlabBytes = 256 * 1024;  // packed B block kept in L2 (1-2 MB per core)

// The storage behind Columns, on the driver's stack (64-byte aligned for zmm stores).
struct BlockArrays {
  alignas(64) int32_t offset[kMaxBlockColumns];
  alignas(64) int32_t zb[kMaxBlockColumns];
  alignas(64) float scale[kMaxBlockColumns];
  alignas(64) int32_t multiplier[kMaxBlockColumns];
  alignas(64) int32_t left_shift[kMaxBlockColumns];
  alignas(64) int32_t right_shift[kMaxBlockColumns];
  alignas(64) int32_t round_mask[kMaxBlockColumns];

  Columns columns() const { return {offset, zb, scale, multiplier, left_shift, right_shift, round_mask}; }
};

// The B columns a block may span (a multiple of nr) so that its packed K x
// block slab stays in L2.
static inline size_t block_columns(size_t kp, size_t nr) {
  size_t cols = kSlabBytes / (kp > 0 ? kp : 1) / nr * nr;
  if (cols < nr) cols = nr;
  return cols < kMaxBlockColumns ? cols : kMaxBlockColumns / nr * nr;
}

// Calls tile(m0, rows) over [m_begin, m_end) cut into tiles of at most mr rows
// and near-equal height (17 rows with mr = 8 as 6 + 6 + 5, not 8 + 8 + 1): a
// short tile amortises each B load over fewer rows.
template <class Tile>
static inline void for_each_row_tile(size_t m_begin, size_t m_end, size_t mr, Tile&& tile) {
  const size_t m = m_end - m_begin;
  const size_t tiles = (m + mr - 1) / mr;
  if (tiles == 0) return;
  const size_t base_rows = m / tiles, taller = m % tiles;
  size_t m0 = m_begin;
  for (size_t t = 0; t < tiles; ++t) {
    const size_t rows = base_rows + (t < taller ? 1 : 0);
    tile(m0, rows);
    m0 += rows;
  }
}

}  // namespace x86
}  // namespace lowbit
