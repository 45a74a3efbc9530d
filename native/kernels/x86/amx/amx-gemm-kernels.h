// The kernels the AMX GEMM path is made of, and the packing they share.
#pragma once

#include <cstddef>

#include "amx-tile-ops.h"
#include "lowbit/gemm.h"

namespace lowbit {
namespace LOWBIT_AMX_NAMESPACE {

// B' packing (pack.h): panels of 16 columns, K in quads, K padded to 64, so that
// each 64-deep slice of a panel is one AMX B tile (16 rows of 64 bytes).
constexpr size_t kNr = 16;
constexpr size_t kKr = 4;
constexpr size_t kKAlign = 64;

// Rows up to this many go to the AVX512-VNNI kernel: a tile multiply costs about
// the same for 1 row as for 16, while vpdpbusd cost scales with the rows.
constexpr size_t kSmallM = 4;

// Tiles of 32x32 outputs (2x2 AMX C tiles), any M, N, K.
void qu8s8_gemm_32x32_amx(const GemmArgs& args, size_t m_begin, size_t m_end, size_t n_begin,
                          size_t n_end);

// Up to 4 rows x 64 columns per step with vpdpbusd, for few rows (M = 1, small batches).
void qu8s8_gemm_4x64_avx512vnni(const GemmArgs& args, size_t m_begin, size_t m_end,
                                size_t n_begin, size_t n_end);

}  // namespace LOWBIT_AMX_NAMESPACE
}  // namespace lowbit
