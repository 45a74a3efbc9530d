// fp32 depthwise convolution NHWC, channel blocks of one AVX-512F vector, runs of
// output pixels per weight load (8-channel tails at 256 bits), fused epilogue (common/f32-kernels.h).
#include "f32-ops-avx512f.h"
#include "../../common/f32-kernels.h"

namespace lowbit {
namespace avx512vnni {

void f32_depthwise(const F32DepthwiseArgs& args, size_t image, size_t oh0, size_t oh1) {
  // 16-channel blocks; a tail of at most 8 channels runs at 256 bits (every
  // channel count of the form 16k + 8 then needs no masking at all).
  const size_t c = args.p->c, c16 = c / 16 * 16;
  if (c - c16 == 0 || c - c16 > 8) {
    f32::depthwise<F32Ops>(args, image, oh0, oh1, 0, c);
    return;
  }
  if (c16 > 0) f32::depthwise<F32Ops>(args, image, oh0, oh1, 0, c16);
  f32::depthwise<F32Ops256>(args, image, oh0, oh1, c16, c);
}

}  // namespace avx512vnni
}  // namespace lowbit
