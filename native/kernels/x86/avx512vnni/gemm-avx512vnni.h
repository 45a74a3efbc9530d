// The AVX512-VNNI int8 GEMM path: what the driver (gemm-avx512vnni.cc) and its
// microkernels share. Compiled only into this folder's translation units.
//
// Domain (see lowbit/pack.h): A_eff = A (uint8) or A XOR 0x80 (int8), B' int8,
// vpdpbusd multiplies u8 x s8 and sums 4 products into int32 lanes without
// saturation, so the dot products are exact and wrap like ref's.
#pragma once

#include <immintrin.h>

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
// GCC 12 false positive (PR 105593): its AVX-512 headers build results on a
// deliberately uninitialized _mm512_undefined_*() value. Only this folder's
// translation units include this header.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <cstddef>
#include <cstdint>

namespace lowbit {
namespace avx512vnni {

constexpr size_t kNr = 32;  // columns per panel: two zmm of int32 accumulators
constexpr size_t kMr = 8;   // rows per tile: 16 accumulators + 2 B + broadcasts
constexpr size_t kKr = 4;   // vpdpbusd sums 4 consecutive K per int32 lane

enum class OutputKind { kInt32, kFp32, kFixedpoint };

// Per-call constants of the output stage (scalars, per tensor). uint8 and
// int8 outputs are stored alike: the low byte of the clamped int32.
struct OutputStage {
  OutputKind kind = OutputKind::kInt32;
  int32_t zero_point = 0;
  int32_t qmin = 0, qmax = 0;  // fixedpoint clamp
  float lo = 0, hi = 0;        // fp32 clamp, in the domain before the zero point is added
};

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

// One tile: rows x 32 columns over the whole (packed) K. a points at the tile's
// first row, w at the panel, c at C[row 0][col 0]; row_sum is nullptr when every
// zb' of the block is zero; cols_valid <= 32 columns are stored.
using TileKernel = void (*)(size_t k, const uint8_t* a, size_t a_stride, const int8_t* w,
                            const int32_t* row_sum, const Columns& cols, const OutputStage& os,
                            void* c, size_t c_stride, size_t cols_valid);

// qu8s8-gemm-8x32c4-avx512vnni.cc: rows 2..8 (index = rows; [0], [1] unused).
extern const TileKernel kGemmMrx32c4[2][kMr + 1];  // [a_signed][rows]
// qu8s8-gemv-1x32c4-avx512vnni.cc: one row, latency-bound, so K is split over
// four accumulator sets.
extern const TileKernel kGemv1x32c4[2];  // [a_signed]

}  // namespace avx512vnni
}  // namespace lowbit
