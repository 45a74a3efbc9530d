// fp32 depthwise convolution NHWC, scalar, over the packed channel blocks: the
// ref path's depthwise kernel. Taps in the padding are skipped; the sum runs
// bias first, then kh, kw in order, as in the SIMD paths.
#include "lowbit/conv_f32.h"

namespace lowbit {
namespace ref {

void f32_depthwise(const F32DepthwiseArgs& args, size_t image, size_t oh0, size_t oh1) {
  const Conv2dParams& p = *args.p;
  const PackedF32Depthwise& w = *args.w;
  const size_t c = p.c, cb = w.cb;
  const float* in = args.in + image * p.h * p.w * c;
  float* out = args.out + image * args.out_h * args.out_w * c;
  for (size_t oh = oh0; oh < oh1; ++oh) {
    for (size_t ow = 0; ow < args.out_w; ++ow) {
      for (size_t ch = 0; ch < c; ++ch) {
        const float* wb = w.block_weights(ch / cb) + ch % cb;
        float acc = w.block_bias(ch / cb)[ch % cb];
        for (size_t kh = 0; kh < w.kh; ++kh) {
          const ptrdiff_t ih = static_cast<ptrdiff_t>(oh * p.stride_h + kh * p.dilation_h) - static_cast<ptrdiff_t>(p.pad_top);
          if (ih < 0 || ih >= static_cast<ptrdiff_t>(p.h)) continue;
          for (size_t kw = 0; kw < w.kw; ++kw) {
            const ptrdiff_t iw = static_cast<ptrdiff_t>(ow * p.stride_w + kw * p.dilation_w) - static_cast<ptrdiff_t>(p.pad_left);
            if (iw < 0 || iw >= static_cast<ptrdiff_t>(p.w)) continue;
            acc += in[(static_cast<size_t>(ih) * p.w + static_cast<size_t>(iw)) * c + ch] * wb[(kh * w.kw + kw) * cb];
          }
        }
        out[(oh * args.out_w + ow) * c + ch] = f32_activate(args.epilogue, acc);
      }
    }
  }
}

}  // namespace ref
}  // namespace lowbit
