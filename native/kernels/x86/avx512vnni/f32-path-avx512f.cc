// The avx512 fp32 path: 8x32 GEMM tiles, 16-channel depthwise blocks. Serves the
// avx512vnni and amx kernel paths (this folder is compiled for AVX512-VNNI CPUs).
#include "f32-ops-avx512f.h"
#include "lowbit/gemm_f32.h"

namespace lowbit {
namespace avx512vnni {

void f32_gemm(const F32GemmArgs& args, size_t m0, size_t m1, size_t n0, size_t n1);
void f32_depthwise(const F32DepthwiseArgs& args, size_t image, size_t oh0, size_t oh1);

extern const F32Path kF32Path = {
    "avx512", [] { return cpu_supports(Isa::kAvx512Vnni); }, 8, 2 * F32Ops::kLanes, F32Ops::kLanes,
    &f32_gemm, &f32_depthwise};

}  // namespace avx512vnni
}  // namespace lowbit
