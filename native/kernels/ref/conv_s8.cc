// Reference int8 convolution: the ONNX ConvInteger / QLinearConv formula evaluated
// directly, one output at a time, from ONNX-layout weights and NHWC activations.
// Slow on purpose: it is the ground truth every packed path is compared against.
#include "lowbit/conv_s8.h"

namespace lowbit {
namespace ref {

namespace {
inline int32_t load(const void* p, bool is_signed, size_t i) {
  return is_signed ? static_cast<const int8_t*>(p)[i] : static_cast<const uint8_t*>(p)[i];
}
}  // namespace

void conv_s8(size_t n, size_t h, size_t wd, size_t c, const void* x, bool x_signed,
             int32_t x_zero_point, const void* w, bool w_signed, size_t m, size_t groups,
             const int32_t* w_zero_point, size_t w_zero_point_count, const Conv2dGeometry& g,
             const Requantization* rq, void* out) {
  const size_t oh = g.out_h(h), ow = g.out_w(wd);
  const size_t cg = c / groups, mg = m / groups;
  size_t idx = 0;
  for (size_t b = 0; b < n; ++b) {
    for (size_t oy = 0; oy < oh; ++oy) {
      for (size_t ox = 0; ox < ow; ++ox) {
        for (size_t oc = 0; oc < m; ++oc, ++idx) {
          const size_t group = oc / mg;
          const int32_t zw = w_zero_point_count == 0 ? 0 : w_zero_point[w_zero_point_count == 1 ? 0 : oc];
          uint32_t acc = 0;  // wraps like int32 hardware adds, without undefined behaviour
          for (size_t ky = 0; ky < g.kh; ++ky) {
            const ptrdiff_t iy = static_cast<ptrdiff_t>(oy * g.stride_h + ky * g.dilation_h) -
                                 static_cast<ptrdiff_t>(g.pad_top);
            if (iy < 0 || iy >= static_cast<ptrdiff_t>(h)) continue;
            for (size_t kx = 0; kx < g.kw; ++kx) {
              const ptrdiff_t ix = static_cast<ptrdiff_t>(ox * g.stride_w + kx * g.dilation_w) -
                                   static_cast<ptrdiff_t>(g.pad_left);
              if (ix < 0 || ix >= static_cast<ptrdiff_t>(wd)) continue;
              const size_t pixel = ((b * h + static_cast<size_t>(iy)) * wd + static_cast<size_t>(ix)) * c;
              for (size_t ci = 0; ci < cg; ++ci) {
                const int32_t xv = load(x, x_signed, pixel + group * cg + ci) - x_zero_point;
                const int32_t wv = load(w, w_signed, ((oc * cg + ci) * g.kh + ky) * g.kw + kx) - zw;
                acc += static_cast<uint32_t>(xv * wv);
              }
            }
          }
          const int32_t a = static_cast<int32_t>(acc);
          if (rq == nullptr) {
            static_cast<int32_t*>(out)[idx] = a;
          } else if (rq->out_signed) {
            static_cast<int8_t*>(out)[idx] = static_cast<int8_t>(requantize_one(*rq, a, oc));
          } else {
            static_cast<uint8_t*>(out)[idx] = static_cast<uint8_t>(requantize_one(*rq, a, oc));
          }
        }
      }
    }
  }
}

}  // namespace ref
}  // namespace lowbit
