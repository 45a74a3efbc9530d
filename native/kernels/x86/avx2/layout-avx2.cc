// Data movement with AVX2: 32-bit transposes in 8x8 register blocks, the
// resize weighted sum on ymm. Byte transposes use ref's tiled loop except
// for the dense 3- and 4-row interleaves (transpose-interleave-avx.h).
#include "../../common/f32-layout-impl.h"
#include "../common/transpose-8x8-avx.h"

namespace lowbit {
namespace avx2 {

extern const LayoutPath kLayoutPath = {Isa::kAvx2, x86::transpose_32_avx, x86::transpose_8_avx,
                                       simd::weighted_sum_f32<simd::VecAvx2>};

}  // namespace avx2
}  // namespace lowbit
