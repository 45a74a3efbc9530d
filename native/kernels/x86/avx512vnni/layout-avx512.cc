// Data movement with AVX-512: 32-bit transposes in 8x8 ymm blocks, bytes in
// 16x16 (wider blocks gain nothing on a memory-bound copy), the resize
// weighted sum on zmm.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12 avx512fintrin.h false alarm
#include "../../common/f32-layout-impl.h"
#include "../common/transpose-8x8-avx.h"

namespace lowbit {
namespace avx512 {

extern const LayoutPath kLayoutPath = {Isa::kAvx512Vnni, x86::transpose_32_avx, x86::transpose_8_avx,
                                       simd::weighted_sum_f32<simd::VecAvx512>};

}  // namespace avx512
}  // namespace lowbit
