// fp32 depthwise convolution NHWC, channel blocks of one NEON vector, runs of
// 8 / 4 / 1 output pixels per weight load, fused epilogue (common/f32-kernels.h).
#include "f32-ops-neon.h"
#include "../../common/f32-kernels.h"

namespace lowbit {
namespace neon {

void f32_depthwise(const F32DepthwiseArgs& args, size_t image, size_t oh0, size_t oh1) {
  f32::depthwise<F32Ops>(args, image, oh0, oh1, 0, args.p->c);
}

}  // namespace neon
}  // namespace lowbit
