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

#include "../common/gemm-block.h"

namespace lowbit {
namespace avx512vnni {

constexpr size_t kNr = 32;  // columns per panel: two zmm of int32 accumulators
constexpr size_t kMr = 8;   // rows per tile: 16 accumulators + 2 B + broadcasts
constexpr size_t kKr = 4;   // vpdpbusd sums 4 consecutive K per int32 lane

using x86::Columns;
using x86::OutputKind;
using x86::OutputStage;

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
