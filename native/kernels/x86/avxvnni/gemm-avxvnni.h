// The AVX-VNNI int8 GEMM path (VEX vpdpbusd on ymm): what the driver
// (gemm-avxvnni.cc) and its microkernels share.
//
// Domain (see lowbit/pack.h): A_eff = A (uint8) or A XOR 0x80 (int8), B' int8;
// vpdpbusd multiplies u8 x s8 and sums 4 products into int32 lanes without
// saturation, so the dot products are exact and wrap like ref's.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../avx2/output-stage-ymm.h"

namespace lowbit {
namespace avxvnni {

constexpr size_t kNr = 16;  // columns per panel: two ymm of int32 accumulators
constexpr size_t kMr = 6;   // rows per tile: 12 accumulators + 2 B + broadcast + sign flip = 16 ymm
constexpr size_t kKr = 4;   // vpdpbusd sums 4 consecutive K per int32 lane

// qu8s8-gemm-6x16c4-avxvnni.cc, indexed [a_signed][rows], rows 1..6. The
// 1-row instance is the batch-1 (GEMV) kernel: K split over 4 accumulator sets.
extern const x86ymm::TileKernel kGemmMrx16c4[2][kMr + 1];

}  // namespace avxvnni
}  // namespace lowbit
