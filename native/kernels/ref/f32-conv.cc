// fp32 Conv and ConvTranspose, the ground truth: the ONNX definitions evaluated
// directly over unpacked ONNX-layout weights, NHWC activations.
#include <algorithm>
#include <vector>

#include "lowbit/conv_f32.h"

namespace lowbit {
namespace ref {

void conv2d_f32(const Conv2dParams& p, const float* in, const float* weights, const float* bias,
                const F32Epilogue& e, float* out) {
  const size_t oh_count = conv_out_extent(p.h, p.kh, p.pad_top, p.pad_bottom, p.stride_h, p.dilation_h);
  const size_t ow_count = conv_out_extent(p.w, p.kw, p.pad_left, p.pad_right, p.stride_w, p.dilation_w);
  const size_t cg = p.c / p.groups, mg = p.m / p.groups;
  for (size_t n = 0; n < p.n; ++n) {
    for (size_t oh = 0; oh < oh_count; ++oh) {
      for (size_t ow = 0; ow < ow_count; ++ow) {
        for (size_t mo = 0; mo < p.m; ++mo) {
          const size_t g = mo / mg;
          float acc = bias != nullptr ? bias[mo] : 0.0f;
          for (size_t kh = 0; kh < p.kh; ++kh) {
            const ptrdiff_t ih = static_cast<ptrdiff_t>(oh * p.stride_h + kh * p.dilation_h) - static_cast<ptrdiff_t>(p.pad_top);
            if (ih < 0 || ih >= static_cast<ptrdiff_t>(p.h)) continue;
            for (size_t kw = 0; kw < p.kw; ++kw) {
              const ptrdiff_t iw = static_cast<ptrdiff_t>(ow * p.stride_w + kw * p.dilation_w) - static_cast<ptrdiff_t>(p.pad_left);
              if (iw < 0 || iw >= static_cast<ptrdiff_t>(p.w)) continue;
              const float* x = in + ((n * p.h + static_cast<size_t>(ih)) * p.w + static_cast<size_t>(iw)) * p.c + g * cg;
              for (size_t ci = 0; ci < cg; ++ci) {
                acc += x[ci] * weights[((mo * cg + ci) * p.kh + kh) * p.kw + kw];
              }
            }
          }
          out[((n * oh_count + oh) * ow_count + ow) * p.m + mo] = f32_activate(e, acc);
        }
      }
    }
  }
}

void conv_transpose2d_f32(const Conv2dParams& p, const float* in, const float* weights, const float* bias,
                          const F32Epilogue& e, float* out) {
  const size_t oh_count = conv_transpose_out_extent(p.h, p.kh, p.pad_top, p.pad_bottom, p.stride_h, p.dilation_h, p.out_pad_h);
  const size_t ow_count = conv_transpose_out_extent(p.w, p.kw, p.pad_left, p.pad_right, p.stride_w, p.dilation_w, p.out_pad_w);
  const size_t cg = p.c / p.groups, mg = p.m / p.groups;
  const size_t pixels = p.n * oh_count * ow_count;
  for (size_t i = 0; i < pixels; ++i) {
    for (size_t mo = 0; mo < p.m; ++mo) out[i * p.m + mo] = bias != nullptr ? bias[mo] : 0.0f;
  }
  // Every input pixel scatters into the outputs its taps reach.
  for (size_t n = 0; n < p.n; ++n) {
    for (size_t ih = 0; ih < p.h; ++ih) {
      for (size_t iw = 0; iw < p.w; ++iw) {
        const float* x = in + ((n * p.h + ih) * p.w + iw) * p.c;
        for (size_t kh = 0; kh < p.kh; ++kh) {
          const ptrdiff_t oh = static_cast<ptrdiff_t>(ih * p.stride_h + kh * p.dilation_h) - static_cast<ptrdiff_t>(p.pad_top);
          if (oh < 0 || oh >= static_cast<ptrdiff_t>(oh_count)) continue;
          for (size_t kw = 0; kw < p.kw; ++kw) {
            const ptrdiff_t ow = static_cast<ptrdiff_t>(iw * p.stride_w + kw * p.dilation_w) - static_cast<ptrdiff_t>(p.pad_left);
            if (ow < 0 || ow >= static_cast<ptrdiff_t>(ow_count)) continue;
            float* y = out + ((n * oh_count + static_cast<size_t>(oh)) * ow_count + static_cast<size_t>(ow)) * p.m;
            for (size_t ci = 0; ci < p.c; ++ci) {
              const size_t g = ci / cg;
              for (size_t mo = 0; mo < mg; ++mo) {
                y[g * mg + mo] += x[ci] * weights[((ci * mg + mo) * p.kh + kh) * p.kw + kw];
              }
            }
          }
        }
      }
    }
  }
  for (size_t i = 0; i < pixels * p.m; ++i) out[i] = f32_activate(e, out[i]);
}

}  // namespace ref
}  // namespace lowbit
