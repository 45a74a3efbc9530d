// Data movement with AVX2: 32-bit transposes in 8x8 register blocks, bytes in
// 16x16 (transpose-8x8-avx.h; dense 3- and 4-row interleaves in
// transpose-interleave-avx.h), the resize weighted sum on ymm.
#include "../../common/f32-layout-impl.h"
#include "../common/transpose-8x8-avx.h"

namespace lowbit {
namespace avx2 {

extern const LayoutPath kLayoutPath = {Isa::kAvx2, x86::transpose_32_avx, x86::transpose_8_avx,
                                       simd::weighted_sum_f32<simd::VecAvx2>};

}  // namespace avx2
}  // namespace lowbit
