// fp32 depthwise convolution NHWC, channel blocks of one AVX2+FMA vector, runs of
// 8 / 4 / 1 output pixels per weight load, fused epilogue (common/f32-kernels.h).
#include "f32-ops-avx2.h"
#include "../../common/f32-kernels.h"

namespace lowbit {
namespace avx2 {

void f32_depthwise(const F32DepthwiseArgs& args, size_t image, size_t oh0, size_t oh1) {
  f32::depthwise<F32Ops>(args, image, oh0, oh1, 0, args.p->c);
}

}  // namespace avx2
}  // namespace lowbit
