// The AVX2 depthwise path's rows kernel (qs8-dwconv-rows-avx2.cc): stride and
// dilation 1 along W, 3 or 5 kernel columns, int16 pairs of kernel columns.
// Its weights follow the per-pixel layout in PackedDepthwise::data, from
// rows_offset (0: not packed). Only weights packed for the avx2 path itself
// use it (the avxvnni path packs its own after the avx2 layout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lowbit/depthwise_s8.h"

namespace lowbit {
namespace avx2 {

// Bytes of the rows kernel's weights for this shape; 0: the kernel does not run it.
size_t rows16_bytes(size_t channels, size_t kh, size_t kw);
void pack_rows16(const void* w, bool w_signed, size_t channels, size_t kh, size_t kw,
                 const std::vector<int32_t>& zero_point, uint8_t* dst);
// True when run() takes the rows kernel for these weights and this geometry.
bool rows16_for(const PackedDepthwise& w, const Conv2dGeometry& g);
// Per-channel arrays into the rows kernel's [phase][16] order (when rows16_for).
void finish_params_rows16(const PackedDepthwise& w, const Conv2dGeometry& g, DepthwiseParams* p);
void run_rows16(const DepthwiseArgs& a, size_t r0, size_t r1);

}  // namespace avx2
}  // namespace lowbit
