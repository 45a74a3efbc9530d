// Weight packing shared by the SIMD GEMM paths (x86 and ARM).
//
// Every SIMD path computes in the u8 x s8 domain:
//   A_eff = A            (uint8 A)      za_eff = za
//   A_eff = A XOR 0x80   (int8 A, = A + 128)   za_eff = za + 128
//   B'    = B            (int8 B)       zb'    = zb
//   B'    = B - 128      (uint8 B)      zb'    = zb - 128
// so that (A - za)(B - zb) = (A_eff - za_eff)(B' - zb') exactly, and
//   C[m][n] = dot(A_eff[m], B'[:,n]) - za_eff * colsum(B')[n]
//             - zb'[n] * rowsum(A_eff)[m] + K * za_eff * zb'[n]
// in wrapping int32 arithmetic, which equals ref::gemm_s32 bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lowbit/gemm.h"

namespace lowbit {

// Packs B' into panels of `nr` columns, K padded with zeros to a multiple of
// `k_align` (a multiple of kr), each panel laid out [K/kr][nr][kr] bytes:
//   data[((panel * K_padded/kr + g) * nr + col) * kr + i] = B'[g*kr + i][panel*nr + col]
// Columns past n in the last panel are zero. Also fills column_sum (of B', real
// K only) and zero_point_s8 (zb', one per column), and sets out->nr / out->kr.
void pack_u8s8_panels(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
                      const std::vector<int32_t>& zero_point, size_t nr, size_t kr,
                      size_t k_align, PackedMatrix* out);

// K rounded up to the packing's alignment (the K extent of each panel).
inline size_t packed_k(size_t k, size_t k_align) { return (k + k_align - 1) / k_align * k_align; }

}  // namespace lowbit
