// Data movement with NEON: transposes in register tiles (transpose-neon.h:
// bytes 16x16 / 8x8, 32-bit 4x4) with overlapping edge tiles, dense sides of
// 2..4 by structure loads / stores, the resize weighted sum on q registers.
#include <arm_neon.h>

#include "../../common/f32-layout-impl.h"
#include "../../common/transpose-small.h"
#include "../../common/transpose-tiles.h"
#include "transpose-neon.h"

namespace lowbit {
namespace neon {
namespace {

void transpose_32(const uint32_t* src, size_t ss, uint32_t* dst, size_t ds, size_t rows, size_t cols) {
  if (transpose_narrow(src, ss, dst, ds, rows, cols)) return;
  if (rows < 4) {
    layout::transpose_few_rows(src, ss, dst, ds, rows, cols);
  } else if (cols < 4) {
    layout::transpose_few_cols(src, ss, dst, ds, rows, cols);
  } else {
    layout::transpose_overlapped<4, 4>(src, ss, dst, ds, rows, cols, transpose_4x4_32);
  }
}

void transpose_8(const uint8_t* src, size_t ss, uint8_t* dst, size_t ds, size_t rows, size_t cols) {
  if (transpose_narrow(src, ss, dst, ds, rows, cols)) return;
  if (rows < 8) {
    layout::transpose_few_rows(src, ss, dst, ds, rows, cols);
  } else if (cols < 8) {
    layout::transpose_few_cols(src, ss, dst, ds, rows, cols);
  } else if (rows >= 16 && cols >= 16) {
    layout::transpose_overlapped<16, 16>(src, ss, dst, ds, rows, cols, transpose_16x16_8);
  } else {
    layout::transpose_overlapped<8, 8>(src, ss, dst, ds, rows, cols, transpose_8x8_8);
  }
}

}  // namespace

extern const LayoutPath kLayoutPath = {Isa::kNeon, transpose_32, transpose_8, simd::weighted_sum_f32<simd::VecNeon>};

}  // namespace neon
}  // namespace lowbit
