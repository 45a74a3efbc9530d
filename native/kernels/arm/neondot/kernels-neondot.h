// The Armv8.2 dot-product (SDOT) int8 microkernels. Packed B: pack.h panels of
// 16 columns with K grouped by 4 ([K/4][16][4]), so one q register holds 4 K
// values of 4 columns, the operand shape of SDOT's by-element form.
#pragma once

#include "../common/gemm-microkernel.h"

namespace lowbit {
namespace neondot {

constexpr size_t kMr = 4;
constexpr size_t kNr = 16;
constexpr size_t kKr = 4;

// 4 rows x 16 columns, K by 4: one SDOT (by element) per 16 products.
void qs8_gemm_4x16c4__neondot(const arm::GemmTile<kMr, kNr>& tile);
// 1 row x 16 columns (GEMV and the last row of a chunk).
void qs8_gemv_1x16c4__neondot(const arm::GemmTile<1, kNr>& tile);

}  // namespace neondot
}  // namespace lowbit
