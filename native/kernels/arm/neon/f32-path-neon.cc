// The neon fp32 path: 8x8 GEMM tiles, 4-channel depthwise blocks. Serves the
// neon and neondot kernel paths (SDOT adds nothing for fp32).
#include "f32-ops-neon.h"
#include "lowbit/gemm_f32.h"

namespace lowbit {
namespace neon {

void f32_gemm(const F32GemmArgs& args, size_t m0, size_t m1, size_t n0, size_t n1);
void f32_depthwise(const F32DepthwiseArgs& args, size_t image, size_t oh0, size_t oh1);

extern const F32Path kF32Path = {
    "neon", [] { return cpu_supports(Isa::kNeon); }, 8, 2 * F32Ops::kLanes, F32Ops::kLanes,
    &f32_gemm, &f32_depthwise};

}  // namespace neon
}  // namespace lowbit
