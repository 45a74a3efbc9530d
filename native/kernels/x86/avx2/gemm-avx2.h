// The AVX2 int8 GEMM path: what the driver (gemm-avx2.cc) and its microkernel
// share.
//
// AVX2 has no u8 x s8 dot-product instruction that is exact: vpmaddubsw sums
// two products into a saturating int16 (255 * -128 * 2 does not fit). This path
// widens both operands to int16 instead and uses vpmaddwd, whose int32 pair sum
// is exact for any 8-bit inputs (|sum| <= 2 * 255 * 128). Because the multiply
// is signed x signed, A stays in its own domain (uint8 or int8, zero point
// unchanged): no XOR, so int8 A costs exactly what uint8 A does.
#pragma once

#include <cstddef>
#include <cstdint>

#include "output-stage-ymm.h"

namespace lowbit {
namespace avx2 {

constexpr size_t kNr = 8;   // columns per panel: 32 bytes of B per group of 4 K
constexpr size_t kMr = 6;   // rows per tile: 12 accumulators + 2 widened B + broadcast
constexpr size_t kKr = 4;   // K per column per group: two vpmaddwd pairs, summed at tile end

// The driver widens each row tile of A to int16 once (amortised over every
// panel), K padded with zeros to a multiple of 4, when K fits this bound.
constexpr size_t kMaxWidenedK = 4096;

// qu8s8-gemm-6x8c4-avx2.cc, indexed [rows], rows 1..6: A is int16, pre-widened.
extern const x86ymm::TileKernel kGemmWidenedMrx8c4[kMr + 1];
// The same for longer K, widening A inside the loop: [a_signed][rows].
extern const x86ymm::TileKernel kGemmMrx8c4[2][kMr + 1];

}  // namespace avx2
}  // namespace lowbit
