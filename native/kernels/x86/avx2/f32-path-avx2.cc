// The avx2 fp32 path: 6x16 GEMM tiles, 8-channel depthwise blocks. Serves the
// avx2 and avxvnni kernel paths (AVX-VNNI adds nothing for fp32).
#include "f32-ops-avx2.h"
#include "lowbit/gemm_f32.h"

namespace lowbit {
namespace avx2 {

void f32_gemm(const F32GemmArgs& args, size_t m0, size_t m1, size_t n0, size_t n1);
void f32_depthwise(const F32DepthwiseArgs& args, size_t image, size_t oh0, size_t oh1);

extern const F32Path kF32Path = {
    "avx2", [] { return cpu_supports(Isa::kAvx2); }, 6, 2 * F32Ops::kLanes, F32Ops::kLanes,
    &f32_gemm, &f32_depthwise};

}  // namespace avx2
}  // namespace lowbit
