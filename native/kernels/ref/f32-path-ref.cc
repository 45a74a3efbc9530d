// The ref fp32 path: scalar kernels over the same packed layouts as the SIMD
// paths (8-column panels, 4-channel depthwise blocks), for every CPU.
#include "lowbit/conv_f32.h"
#include "lowbit/gemm_f32.h"

namespace lowbit {
namespace ref {

void f32_gemm(const F32GemmArgs& args, size_t m0, size_t m1, size_t n0, size_t n1);
void f32_depthwise(const F32DepthwiseArgs& args, size_t image, size_t oh0, size_t oh1);

extern const F32Path kF32Path = {"ref", [] { return true; }, 4, 8, 4, &f32_gemm, &f32_depthwise};

}  // namespace ref
}  // namespace lowbit
