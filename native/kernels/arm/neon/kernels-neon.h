// The plain-NEON (Armv8.0 ASIMD) int8 microkernels. Packed B: pack.h panels of
// 4 columns with K grouped by 16 ([K/16][4][16]), so one q register holds 16
// consecutive K values of one column.
#pragma once

#include "../common/gemm-microkernel.h"

namespace lowbit {
namespace neon {

constexpr size_t kMr = 4;
constexpr size_t kNr = 4;
constexpr size_t kKr = 16;

// 4 rows x 4 columns, K by 16: SMULL/SMULL2 + SADALP per 16 products.
void qs8_gemm_4x4c16__neon_mull_padal(const arm::GemmTile<kMr, kNr>& tile);
// 1 row x 4 columns (GEMV and the last row of a chunk), two K blocks in flight.
void qs8_gemv_1x4c16__neon_mull_padal(const arm::GemmTile<1, kNr>& tile);

}  // namespace neon
}  // namespace lowbit
